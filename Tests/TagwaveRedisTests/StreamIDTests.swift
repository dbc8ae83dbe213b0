import Testing
import TagwaveRedis

@Suite("Stream entry ids")
struct StreamIDTests {
    @Test func parsesWhatRedisSendsAndPrintsItBack() {
        for text in ["0-0", "1700000000000-3", "18446744073709551615-18446744073709551615"] {
            #expect(StreamID(text)?.description == text)
            #expect(StreamID(utf8: Array(text.utf8))?.description == text)
            #expect(StreamID(text)?.utf8 == Array(text.utf8))
        }
        #expect(StreamID("1700000000000") == StreamID(milliseconds: 1_700_000_000_000, sequence: 0))
    }

    @Test func refusesWhatIsNotAnID() {
        for text in ["", "-", "-1", "1-", "1-2-3", "1--2", "a-1", "1-b", " 1-2", "18446744073709551616-0", "1-18446744073709551616"] {
            #expect(StreamID(text) == nil, "\(text)")
        }
    }

    @Test func ordersAsRedisDoes() {
        #expect(StreamID("1-10")! > StreamID("1-9")!)
        #expect(StreamID("2-0")! > StreamID("1-99")!)
        #expect(StreamID("1-18446744073709551615")!.next == StreamID("2-0"))
    }
}
