import Testing

@testable import VeneerCore

/// Display frequencies read the history newest first and stop once the answer is known; the answers must be
/// those of counting the whole history, whatever its order and length.
@Suite("Display frequency")
struct DisplayFrequencyTests {
    static let now: Int64 = 1_800_000_000_000

    /// The answer by counting every record, the plain reading of each frequency.
    static func counted(_ frequency: DisplayFrequency, arm: String, history: [ExposureRecord], session: String) -> Bool
    {
        func inVisit(_ record: ExposureRecord) -> Bool {
            record.arm == arm && (record.sessionId ?? Engine.defaultSession) == session
        }
        switch frequency {
        case .always: return true
        case .once: return history.filter { $0.arm == arm }.isEmpty
        case .oncePerVisit: return history.filter(inVisit).isEmpty
        case .cap(let times, .visit): return history.filter(inVisit).count < times
        case .cap(let times, .window(let seconds)):
            return history.filter { $0.arm == arm && $0.timestamp >= now - seconds * 1000 }.count < times
        }
    }

    @Test func answersAreThoseOfCountingTheWholeHistory() {
        var generator = SystemRandomNumberGenerator()
        var frequencies: [DisplayFrequency] = [.always, .once, .oncePerVisit]
        for times in 0...4 {
            frequencies.append(.cap(times: times, per: .visit))
            frequencies.append(.cap(times: times, per: .window(seconds: 3_600)))
        }
        var checked = 0
        for length in [0, 1, 2, 3, 5, 8, 40, 300] {
            for _ in 0..<40 {
                // Shuffled, not in time order: the answers must not depend on it.
                let history = (0..<length).map { _ in
                    ExposureRecord(
                        arm: ["A", "B"].randomElement(using: &generator)!,
                        timestamp: Self.now - Int64.random(in: 0..<7_200_000, using: &generator),
                        sessionId: ["s1", "s2", nil].randomElement(using: &generator)!,
                        control: Bool.random(using: &generator))
                }
                for frequency in frequencies {
                    for session in ["s1", Engine.defaultSession] {
                        let admitted = frequency.admits(
                            arm: "A", history: history, sessionId: session, nowMilliseconds: Self.now)
                        let expected = Self.counted(frequency, arm: "A", history: history, session: session)
                        #expect(admitted == expected, "\(frequency) in \(session) over \(history)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == 8 * 40 * 13 * 2)
    }

    @Test func aCapIsReachedExactlyAtItsCount() {
        let records = (0..<3).map {
            ExposureRecord(arm: "A", timestamp: Self.now - Int64($0) * 1000, sessionId: "s1", control: false)
        }
        for (times, admitted) in [(2, false), (3, false), (4, true)] {
            #expect(
                DisplayFrequency.cap(times: times, per: .visit).admits(
                    arm: "A", history: records, sessionId: "s1", nowMilliseconds: Self.now) == admitted)
            #expect(
                DisplayFrequency.cap(times: times, per: .window(seconds: 60)).admits(
                    arm: "A", history: records, sessionId: "s1", nowMilliseconds: Self.now) == admitted)
        }
        #expect(
            !DisplayFrequency.cap(times: 0, per: .visit).admits(
                arm: "A", history: [], sessionId: "s1", nowMilliseconds: Self.now), "a cap of none admits none")
    }
}
