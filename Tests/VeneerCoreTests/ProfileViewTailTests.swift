import Testing
import VeneerCore

/// Laying a tail read over a view read before: what a profile cache does on every refresh of a long history.
@Suite("Profile view tails")
struct ProfileViewTailTests {
    static let views = EventKey(event: "View Page")
    static let orders = EventKey(event: "Product ordered")

    static func exposure(_ arm: String, at timestamp: Int64) -> ExposureRecord {
        ExposureRecord(arm: arm, timestamp: timestamp, sessionId: "s1", control: false)
    }

    @Test func theTailReplacesEverythingFromItsStartAndNothingBefore() {
        var view = ProfileView(
            userAttributes: ["tier": "silver", "gone": true],
            eventSummaries: [
                Self.views: EventSummary(timestamps: [100, 200, 300, 400]),
                Self.orders: EventSummary(timestamps: [350]),
            ],
            exposures: [
                "hero": [Self.exposure("A", at: 150), Self.exposure("A", at: 320)],
                "promo": [Self.exposure("X", at: 330)],
            ],
            assignments: ["hero": StickyAssignment(arm: "A", control: false, bucketVersion: 1)])
        let tail = ProfileView(
            userAttributes: ["tier": "gold"],
            eventSummaries: [Self.views: EventSummary(timestamps: [300, 310, 500])],
            exposures: ["hero": [Self.exposure("B", at: 310)]],
            assignments: ["hero": StickyAssignment(arm: "B", control: false, bucketVersion: 2)])

        view.replaceTail(from: 300, with: tail)

        #expect(view.eventSummaries[Self.views]?.timestamps == [100, 200, 300, 310, 500], "400 was not in the store")
        #expect(view.eventSummaries[Self.orders] == nil, "an order only the old view had is gone, key and all")
        #expect(view.exposures["hero"]?.map(\.timestamp) == [150, 310])
        #expect(view.exposures["hero"]?.map(\.arm) == ["A", "B"])
        #expect(view.exposures["promo"] == nil)
        #expect(view.userAttributes == ["tier": "gold"], "attributes are the tail's, whole")
        #expect(view.assignments["hero"]?.bucketVersion == 2)
    }

    @Test func aTailOutsideItsOwnStartIsNotLaidOver() {
        // A tail holds nothing before its start; anything there would be a store's fault, and is not counted twice.
        var view = ProfileView(eventSummaries: [Self.views: EventSummary(timestamps: [100])])
        view.replaceTail(
            from: 200,
            with: ProfileView(
                eventSummaries: [Self.views: EventSummary(timestamps: [100, 250])],
                exposures: ["hero": [Self.exposure("A", at: 50)]]))
        #expect(view.eventSummaries[Self.views]?.timestamps == [100, 250])
        #expect(view.exposures["hero"] == nil)
    }

    /// What a cache's refresh costs: laid over a view whose storage is its own, a tail changes a long history where it
    /// is stored instead of copying it.
    @Test func aTailIsLaidOverALongHistoryWithoutCopyingIt() {
        var view = ProfileView(
            eventSummaries: [Self.views: EventSummary(timestamps: (0..<1000).map { Int64($0) })],
            exposures: ["hero": (0..<1000).map { Self.exposure("A", at: Int64($0)) }])
        func storage(_ view: ProfileView) -> (UnsafeRawPointer?, UnsafeRawPointer?) {
            (
                view.eventSummaries[Self.views]?.timestamps.withUnsafeBufferPointer {
                    UnsafeRawPointer($0.baseAddress)
                },
                view.exposures["hero"]?.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
            )
        }
        let before = storage(view)
        view.replaceTail(
            from: 995,
            with: ProfileView(
                eventSummaries: [Self.views: EventSummary(timestamps: [995, 996, 997])],
                exposures: ["hero": [Self.exposure("B", at: 996), Self.exposure("B", at: 998)]]))
        let after = storage(view)
        #expect(after.0 == before.0, "the summary's times were copied")
        #expect(after.1 == before.1, "the exposure history was copied")
        #expect(view.eventSummaries[Self.views]?.timestamps.suffix(4) == [994, 995, 996, 997])
        #expect(view.eventSummaries[Self.views]?.total == 998)
        #expect(view.exposures["hero"]?.suffix(3).map(\.arm) == ["A", "B", "B"])
        #expect(view.exposures["hero"]?.count == 997)
    }

    @Test func removingFromASummaryKeepsTheTimesBefore() {
        var summary = EventSummary(timestamps: [5, 1, 3, 3, 9])
        summary.removeAll(from: 3)
        #expect(summary.timestamps == [1])
        summary.removeAll(from: 0)
        #expect(summary.total == 0)
        summary.removeAll(from: 100)
        #expect(summary.total == 0)
    }
}
