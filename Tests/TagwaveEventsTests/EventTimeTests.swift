import TagwaveEvents
import TagwaveTestSupport
import Testing

@Suite("occurred_at: RFC 3339 times and Unix epoch milliseconds")
struct EventTimeTests {
    @Test func rfc3339TimesBecomeMillisecondsSinceTheEpoch() {
        let cases: [(String, Int64)] = [
            ("1970-01-01T00:00:00Z", 0),
            ("2024-05-01T12:00:00Z", 1_714_564_800_000),
            ("2024-05-01T14:00:00+02:00", 1_714_564_800_000),
            ("2024-05-01T07:30:00-04:30", 1_714_564_800_000),
            ("2024-05-01t12:00:00.5z", 1_714_564_800_500),
            ("2024-05-01 12:00:00.123456789Z", 1_714_564_800_123),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000),
            ("2000-03-01T00:00:00.010Z", 951_868_800_010),
            ("1969-12-31T23:59:59.999Z", -1),
            ("2016-12-31T23:59:60Z", 1_483_228_800_000),
        ]
        for (text, milliseconds) in cases {
            #expect(EventTime(parsing: text)?.millisecondsSinceEpoch == milliseconds, "\(text)")
        }
    }

    @Test func epochMillisecondsAreDigitsUpToTheYear9999() {
        #expect(EventTime(parsing: "1714564800000")?.millisecondsSinceEpoch == 1_714_564_800_000)
        #expect(EventTime(parsing: "0")?.millisecondsSinceEpoch == 0)
        #expect(EventTime(parsing: "253402300799999") == EventTime.latestAccepted)
        #expect(EventTime(parsing: "253402300800000") == nil)
        #expect(EventTime(parsing: "99999999999999999999") == nil)
    }

    @Test func anythingElseIsRefused() {
        for text in [
            "", "yesterday", "-5", "1714564800000.5", " 1714564800000", "2024-05-01", "2024-05-01T12:00:00",
            "2024-05-01T12:00Z", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
            "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:61Z", "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00+2:00", "2024-05-01T12:00:00+24:00", "2024-05-01T12:00:00Zjunk", "2024-5-1T12:00:00Z",
        ] {
            #expect(EventTime(parsing: text) == nil, "\(text)")
        }
    }

    @Test func timesFormatAsUTCWithMilliseconds() {
        #expect(EventTime(millisecondsSinceEpoch: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(EventTime(millisecondsSinceEpoch: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(EventTime(millisecondsSinceEpoch: 1_709_164_800_007).rfc3339 == "2024-02-29T00:00:00.007Z")
        #expect(EventTime.latestAccepted.description == "9999-12-31T23:59:59.999Z")
    }

    @Test func formattedTimesParseBackToTheSameMillisecond() {
        var generator = SeededGenerator(state: 99)
        for _ in 0..<2_000 {
            let time = EventTime(
                millisecondsSinceEpoch: Int64.random(
                    in: 0...EventTime.latestAccepted.millisecondsSinceEpoch, using: &generator))
            #expect(EventTime(parsing: time.rfc3339) == time, "\(time.millisecondsSinceEpoch)")
        }
        #expect(EventTime.now() > EventTime(parsing: "2024-01-01T00:00:00Z")!)
    }
}
