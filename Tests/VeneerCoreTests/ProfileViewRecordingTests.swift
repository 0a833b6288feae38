import Testing
import VeneerCore

/// Exposure histories stay in time order however exposures arrive, and the lookups a profile cache makes for
/// its own recent events (`holds`, `EventSummary.contains`) find exactly what is there.
@Suite("Profile view recording")
struct ProfileViewRecordingTests {
    static func exposure(_ arm: String, control: Bool = false) -> Exposure {
        Exposure(
            selector: "hero", optimizationName: "Hero", group: nil, kind: .personalization, arm: arm,
            control: control, bucketVersion: 1, assignmentKey: "p1")
    }

    static func record(
        _ arm: String, at timestamp: Int64, session: String? = "s1", control: Bool = false
    )
        -> ExposureRecord
    {
        ExposureRecord(arm: arm, timestamp: timestamp, sessionId: session, control: control)
    }

    @Test func exposuresArrivingOutOfOrderAreKeptInTimeOrder() {
        var view = ProfileView()
        // Another event loop's clock a millisecond behind, a tie, and one older than everything.
        for (arm, timestamp) in [("A", 100), ("B", 300), ("C", 200), ("D", 300), ("E", 50), ("F", 200), ("G", 400)] {
            view.record(exposure: Self.exposure(arm), timestamp: Int64(timestamp), sessionId: "s1")
        }
        #expect(view.exposures["hero"]?.map(\.timestamp) == [50, 100, 200, 200, 300, 300, 400])
        // Within a millisecond, the order they were recorded in.
        #expect(view.exposures["hero"]?.map(\.arm) == ["E", "A", "C", "F", "B", "D", "G"])
    }

    @Test func aViewBuiltWithUnorderedExposuresPutsThemInTimeOrder() {
        let view = ProfileView(exposures: [
            "hero": [Self.record("A", at: 300), Self.record("B", at: 100), Self.record("C", at: 300)],
            "promo": [Self.record("X", at: 1), Self.record("Y", at: 2)],
        ])
        #expect(view.exposures["hero"]?.map(\.arm) == ["B", "A", "C"])
        #expect(view.exposures["promo"]?.map(\.arm) == ["X", "Y"])
    }

    @Test func holdsFindsOnlyTheExactRecord() {
        var view = ProfileView()
        for timestamp in stride(from: Int64(0), to: 2_000, by: 10) {
            view.record(exposure: Self.exposure("A"), timestamp: timestamp, sessionId: "s1")
        }
        // Several records in one millisecond, the sought one last.
        view.record(exposure: Self.exposure("A"), timestamp: 1_000, sessionId: "s2")
        view.record(exposure: Self.exposure("B", control: true), timestamp: 1_000, sessionId: "s2")

        #expect(view.holds(Self.record("A", at: 0), selector: "hero"))
        #expect(view.holds(Self.record("A", at: 1_990), selector: "hero"))
        #expect(view.holds(Self.record("A", at: 1_000, session: "s2"), selector: "hero"))
        #expect(view.holds(Self.record("B", at: 1_000, session: "s2", control: true), selector: "hero"))

        #expect(!view.holds(Self.record("A", at: 1_005), selector: "hero"), "no record at that millisecond")
        #expect(!view.holds(Self.record("A", at: 5_000), selector: "hero"), "after the last")
        #expect(!view.holds(Self.record("A", at: -1), selector: "hero"), "before the first")
        #expect(!view.holds(Self.record("B", at: 1_000, session: "s2"), selector: "hero"), "control differs")
        #expect(!view.holds(Self.record("A", at: 1_000, session: "s3"), selector: "hero"), "session differs")
        #expect(!view.holds(Self.record("A", at: 1_000, session: nil), selector: "hero"), "no session")
        #expect(!view.holds(Self.record("A", at: 0), selector: "promo"), "another optimization")
    }

    @Test func summariesContainExactlyTheirTimes() {
        let summary = EventSummary(timestamps: [500, 100, 300, 300])
        for present in [Int64(100), 300, 500] { #expect(summary.contains(present)) }
        for absent in [Int64.min, 0, 99, 101, 299, 400, 501, Int64.max] { #expect(!summary.contains(absent)) }
        #expect(!EventSummary().contains(0))
    }
}
