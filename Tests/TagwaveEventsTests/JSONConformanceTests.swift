import TagwaveEvents
import Testing

@Suite("JSON parsing follows RFC 8259 strictly")
struct JSONConformanceTests {
    @Test func everyKindOfValueParsesAtTheTopLevelWithSurroundingWhitespace() throws {
        #expect(try JSONValue.parse(" \t\r\n{}\n") == .object([]))
        #expect(try JSONValue.parse("[ ]") == .array([]))
        #expect(try JSONValue.parse(#""a""#) == .string("a"))
        #expect(try JSONValue.parse("-0.5e10") == .number("-0.5e10"))
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse("false") == .bool(false))
        #expect(try JSONValue.parse(" null ") == .null)
        #expect(try JSONScanner.validate(bytes(#" {"a" : [ 1 , {"b":null} ] } "#)) == .object)
    }

    @Test func numbersKeepTheirLiteralTextWhenTheyFollowTheGrammar() throws {
        for literal in [
            "0", "-0", "1", "-1", "10", "1.5", "-0.5e10", "1E+2", "1e-2", "0.0", "2E0",
            "123456789012345678901234567890",
        ] {
            #expect(try JSONValue.parse("[\(literal)]") == .array([.number(literal)]), "\(literal)")
        }
    }

    @Test func numbersOutsideTheGrammarAreRefusedWhereTheyStart() {
        let cases: [(String, JSONError.Code, Int)] = [
            ("01", .invalidNumber, 0), ("[-01]", .invalidNumber, 1), ("-", .invalidNumber, 0),
            ("1.", .invalidNumber, 0), ("[1.e5]", .invalidNumber, 1), ("1e", .invalidNumber, 0),
            ("1e+", .invalidNumber, 0), ("-a", .invalidNumber, 0), (".5", .unexpectedByte, 0),
            ("+1", .unexpectedByte, 0), ("[0x1]", .unexpectedByte, 2), ("NaN", .unexpectedByte, 0),
            ("Infinity", .unexpectedByte, 0), ("[-Infinity]", .invalidNumber, 1),
        ]
        for (document, code, offset) in cases {
            let error = parseError(document)
            #expect(error?.code == code, "\(document): \(String(describing: error))")
            #expect(error?.offset == offset, "\(document): \(String(describing: error))")
        }
        #expect(parseError("01")?.message == "invalid number at byte 0: leading zeros are not allowed")
    }

    @Test func everyEscapeDecodes() throws {
        let document = #"["\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\u0000"]"#
        #expect(try JSONValue.parse(document) == .array([.string("\"\\/\u{8}\u{C}\n\r\tAé€\u{0}")]))
    }

    @Test func surrogatePairEscapesDecodeToOneCharacter() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONValue.parse(#""x\uD834\uDD1Ey""#) == .string("x𝄞y"))
    }

    @Test func unpairedSurrogatesAreRefusedAtTheirEscape() {
        for (document, offset) in [
            (#""\ud83d""#, 1), (#""ab\ude00""#, 3), (#""\ud83d\u0041""#, 1), (#""\ud83dx""#, 1),
            (#""\ud83d\ud83d""#, 1),
        ] {
            let error = parseError(document)
            #expect(error?.code == .unpairedSurrogate, "\(document)")
            #expect(error?.offset == offset, "\(document)")
        }
        #expect(parseError(#""\ud83d""#)?.message.hasPrefix(#"unpaired UTF-16 surrogate \uD83D at byte 1"#) == true)
    }

    @Test func malformedEscapesAreRefusedAtTheirBackslash() {
        let cases: [(String, JSONError.Code, Int)] = [
            (#""a\x""#, .invalidEscape, 2), (#""\'""#, .invalidEscape, 1), (#""\u12""#, .invalidUnicodeEscape, 1),
            (#""\u12G4""#, .invalidUnicodeEscape, 1), (#""\U0041""#, .invalidEscape, 1),
        ]
        for (document, code, offset) in cases {
            let error = parseError(document)
            #expect(error?.code == code, "\(document)")
            #expect(error?.offset == offset, "\(document)")
        }
        #expect(
            parseError(#""a\x""#)?.message == #"invalid escape '\x' at byte 2: escape only " \ / b f n r t or uXXXX"#)
    }

    @Test func rawUnicodeIsAcceptedAsUTF8() throws {
        #expect(try JSONValue.parse(#"{"é":"héllo € 😀 \u00e9"}"#) == .object([("é", .string("héllo € 😀 é"))]))
    }

    @Test func malformedUTF8IsRefusedAtTheFirstBadSequence() {
        let cases: [[UInt8]] = [
            [0x22, 0x61, 0xC3, 0x28, 0x22],  // bad continuation
            [0x22, 0x61, 0xC0, 0x80, 0x22],  // overlong NUL
            [0x22, 0x61, 0xE0, 0x80, 0xAF, 0x22],  // overlong '/'
            [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
            [0x22, 0x61, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
            [0x22, 0x61, 0xFF, 0x22],  // never valid
            [0x22, 0x61, 0xE2, 0x82],  // truncated at the end
            [0x22, 0x61, 0x80, 0x22],  // a lone continuation byte
        ]
        for document in cases {
            let error = parseError(document)
            #expect(error?.code == .invalidUTF8, "\(document)")
            #expect(error?.offset == 2, "\(document)")
        }
    }

    @Test func rawControlCharactersInStringsAreRefused() {
        let error = parseError("\"a\nb\"")
        #expect(error?.code == .controlCharacterInString)
        #expect(error?.offset == 2)
        #expect(
            error?.message
                == #"unescaped control character byte 0x0A in a string at byte 2: escape it, e.g. as \n or \u000A"#)
        #expect(parseError("\"\u{1F}\"")?.code == .controlCharacterInString)
        #expect(parseError("\"\u{7F}\"") == nil)
    }

    @Test func unterminatedStringsAreReportedAtTheirOpeningQuote() {
        let error = parseError(#"{"teacher":"t1","name":"Ada"#)
        #expect(error?.code == .unterminatedString)
        #expect(error?.offset == 23)
        #expect(error?.message == #"unterminated string at byte 23: close it with '"'"#)
        #expect(parseError(#""abc\"#)?.code == .unterminatedString)
        #expect(parseError(#"""#)?.offset == 0)
    }

    @Test func structuralMistakesAreRefusedWithWhatWasExpected() {
        let cases: [(String, JSONError.Code, Int, String)] = [
            (#"{"a" 1}"#, .unexpectedByte, 5, "unexpected '1' at byte 5: expected ':' after the member name"),
            (#"{"a":1,}"#, .unexpectedByte, 7, "unexpected '}' at byte 7: expected a member name in double quotes"),
            ("{a:1}", .unexpectedByte, 1, "unexpected 'a' at byte 1: expected a member name in double quotes"),
            ("[1,]", .unexpectedByte, 3, "unexpected ']' at byte 3: expected a value"),
            ("[1 2]", .unexpectedByte, 3, "unexpected '2' at byte 3: expected ',' or ']'"),
            (#"{"a":1 "b":2}"#, .unexpectedByte, 7, "unexpected '\"' at byte 7: expected ',' or '}'"),
            (#"{"a":1"#, .unexpectedEnd, 6, "unexpected end of input at byte 6: expected ',' or '}'"),
            ("[", .unexpectedEnd, 1, "unexpected end of input at byte 1: expected a value"),
            ("", .unexpectedEnd, 0, "unexpected end of input at byte 0: expected a value"),
            (" \n ", .unexpectedEnd, 3, "unexpected end of input at byte 3: expected a value"),
            (
                "{} {}", .trailingData, 3,
                "unexpected '{' after the JSON value at byte 3: a document holds exactly one value"
            ),
            (
                "1 2", .trailingData, 2,
                "unexpected '2' after the JSON value at byte 2: a document holds exactly one value"
            ),
            (
                "[1]]", .trailingData, 3,
                "unexpected ']' after the JSON value at byte 3: a document holds exactly one value"
            ),
            ("tru", .unexpectedEnd, 3, "unexpected end of input at byte 3: expected `true`"),
            ("trux", .invalidLiteral, 0, "invalid literal at byte 0: expected true, false or null"),
            ("[nul]", .invalidLiteral, 1, "invalid literal at byte 1: expected true, false or null"),
            ("[True]", .unexpectedByte, 1, "unexpected 'T' at byte 1: expected a value"),
            (
                "[1]x", .trailingData, 3,
                "unexpected 'x' after the JSON value at byte 3: a document holds exactly one value"
            ),
        ]
        for (document, code, offset, message) in cases {
            let error = parseError(document)
            #expect(error?.code == code, "\(document)")
            #expect(error?.offset == offset, "\(document)")
            #expect(error?.message == message, "\(document)")
        }
    }

    @Test func onlyTheFourJSONWhitespaceCharactersAreWhitespace() {
        #expect(parseError(" \t\n\r[ \t\n\r1 \t\n\r] \t\n\r") == nil)
        #expect(parseError("\u{C}[]")?.code == .unexpectedByte)
        #expect(parseError("[\u{A0}1]")?.code == .unexpectedByte)
        #expect(parseError([0xEF, 0xBB, 0xBF] + bytes("{}"))?.offset == 0, "a byte order mark is not JSON")
    }

    @Test func nestingIsLimitedTo64LevelsByDefault() {
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(parseError(deepest) == nil)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let error = parseError(tooDeep)
        #expect(error?.code == .tooDeep)
        #expect(error?.offset == 64)
        #expect(error?.message == "nesting deeper than 64 levels at byte 64: flatten the document")
        let objects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(parseError(objects)?.code == .tooDeep)
        #expect(parseError(String(repeating: "[", count: 100_000))?.code == .tooDeep, "no stack overflow")
        #expect(parseError("[[[]]]", maximumDepth: 2)?.code == .tooDeep)
        #expect(throws: JSONError.self) { try JSONScanner.validate(bytes(tooDeep)) }
        #expect(throws: JSONError.self) { try JSONScanner.extract(paths: ["a"], from: bytes(objects)) }
    }

    @Test func stringsOfEveryLengthDecodeWhateverTheSpecialCharacterPosition() throws {
        // The string scanner reads eight bytes at a time; put each kind of special character at every
        // position around the word boundaries.
        for length in 0..<40 {
            for position in 0...length {
                let plain = String(repeating: "x", count: length)
                let index = plain.index(plain.startIndex, offsetBy: position)
                for (raw, decoded) in [(#"\n"#, "\n"), ("é", "é"), ("😀", "😀"), (#"\u00e9"#, "é"), (#"\""#, "\"")] {
                    var document = plain
                    document.insert(contentsOf: raw, at: index)
                    #expect(
                        try JSONValue.parse("\"\(document)\"")
                            == .string(String(plain[..<index]) + decoded + plain[index...]))
                }
                var broken = bytes("\"" + plain + "\"")
                broken.insert(0x01, at: position + 1)
                #expect(parseError(broken)?.offset == position + 1)
            }
        }
    }

    @Test func randomDocumentsSurviveSerializingAndParsingAgain() throws {
        var random = RandomJSON(seed: 20_240_501)
        for _ in 0..<500 {
            let value = random.value()
            #expect(try JSONValue.parse(value.serialized()) == value)
            #expect(try JSONValue.parse(value.serialized(prettyPrinted: true)) == value)
            #expect(try JSONScanner.validate(value.serializedBytes()) == value.kind)
        }
    }
}
