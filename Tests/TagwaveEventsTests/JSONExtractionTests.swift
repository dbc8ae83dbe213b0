import TagwaveEvents
import Testing

@Suite("Extracting a few fields without building the document")
struct JSONExtractionTests {
    let session = bytes(
        #"""
        {"teacherId":"t1","count":3,"ratio":-0.5e10,"active":true,"note":null,
         "session":{"schoolId":"s\u00e9","teacher":{"id":42,"name":"Ada"}},
         "items":[{"id":"i0"},{"id":"i1"}],"tags":["x","y"]}
        """#)

    @Test func valuesOfTopLevelAndNestedPathsComeBackInPathOrder() throws {
        let values = try JSONScanner.extract(
            paths: ["session.teacher.id", "teacherId", "count", "ratio", "active", "note", "session.schoolId"],
            from: session)
        #expect(
            values == [
                .number("42"), .string("t1"), .number("3"), .number("-0.5e10"), .bool(true), .null, .string("sé"),
            ])
    }

    @Test func absentPathsGiveNil() throws {
        let values = try JSONScanner.extract(
            paths: ["missing", "teacherId.id", "session.teacher.email", "items.2.id", "items.id", "tags.-1"],
            from: session)
        #expect(values == [nil, nil, nil, nil, nil, nil])
    }

    @Test func digitSegmentsIndexArraysAndNameObjectMembers() throws {
        let values = try JSONScanner.extract(paths: ["items.0.id", "items.1.id", "tags.1", "map.0"], from: session)
        #expect(values == [.string("i0"), .string("i1"), .string("y"), nil])
        let objectWithDigitKeys = try JSONScanner.extract(
            paths: ["map.0", "map.01"], from: bytes(#"{"map":{"0":"zero","01":"x"}}"#))
        #expect(objectWithDigitKeys == [.string("zero"), .string("x")])
        #expect(
            try JSONScanner.extract(paths: ["list.01"], from: bytes(#"{"list":["a","b"]}"#)) == [nil],
            "01 is not an index")
    }

    @Test func pathsNamingContainersReportTheirKindAndCanStillBeDescended() throws {
        let values = try JSONScanner.extract(
            paths: ["session", "session.teacher.name", "items", "tags.0"], from: session)
        #expect(values == [.object, .string("Ada"), .array, .string("x")])
    }

    @Test func bigUnrelatedSubtreesAreSkippedButStillValidated() throws {
        let unrelated =
            "["
            + (0..<5_000).map { #"{"n":\#($0),"s":"caf\u00e9 \"quoted\"","deep":[[[{"x":null}]]]}"# }.joined(
                separator: ",") + "]"
        let document = bytes(
            #"{"history":\#(unrelated),"meta":{"big":\#(unrelated)},"session":{"teacher":{"id":"t9"}}}"#)
        #expect(try JSONScanner.extract(paths: ["session.teacher.id"], from: document) == [.string("t9")])

        var corrupt = document
        let badOffset = corrupt.count / 3
        let slash = corrupt[badOffset...].firstIndex(of: UInt8(ascii: "\\"))!
        corrupt[slash + 1] = UInt8(ascii: "q")  // `\u00e9` becomes the invalid escape `\q00e9`
        let error = #expect(throws: JSONError.self) {
            try JSONScanner.extract(paths: ["session.teacher.id"], from: corrupt)
        }
        #expect(error?.code == .invalidEscape)
        #expect(error?.offset == slash)
    }

    @Test func theLastOfARepeatedMemberWinsLikeJavaScript() throws {
        let document = bytes(#"{"a":{"b":1,"c":2},"x":"first","a":{"c":3},"x":"last"}"#)
        let values = try JSONScanner.extract(paths: ["a.b", "a.c", "x", "a"], from: document)
        #expect(values == [nil, .number("3"), .string("last"), .object])
        #expect(try JSONValue.parse(document)["x"] == .string("last"))
    }

    @Test func escapedMemberNamesMatchTheirDecodedText() throws {
        let document = bytes(#"{"teacher\u0049d":"t1","caf\u00e9":{"\ud83d\ude00":"smile"},"a\"b":1}"#)
        let values = try JSONScanner.extract(paths: ["teacherId", "café.😀"], from: document)
        #expect(values == [.string("t1"), .string("smile")])
    }

    @Test func stringValuesAreDecodedAndNumbersKeepTheirText() throws {
        let document = bytes(#"{"s":"line\nbreak \"q\" \u20ac \ud83d\ude00","n":1.0,"big":12345678901234567890}"#)
        let values = try JSONScanner.extract(paths: ["s", "n", "big"], from: document)
        #expect(values == [.string("line\nbreak \"q\" € 😀"), .number("1.0"), .number("12345678901234567890")])
    }

    @Test func repeatedPathsEachGetTheValue() throws {
        #expect(
            try JSONScanner.extract(paths: ["teacherId", "teacherId"], from: session) == [.string("t1"), .string("t1")])
    }

    @Test func aScannerIsReusableAndReadsBuffersInPlace() throws {
        let scanner = JSONScanner(paths: ["teacherId", "session.teacher.id"])
        #expect(try scanner.extract(from: session) == [.string("t1"), .number("42")])
        let fromBuffer = try session.withUnsafeBytes { buffer in try scanner.extract(from: buffer) }
        #expect(fromBuffer == [.string("t1"), .number("42")])
        #expect(try scanner.extract(from: bytes("{}")) == [nil, nil])
        #expect(try JSONScanner.validate(bytes("[1]")) == .array)
    }

    @Test func documentsAreRefusedEvenWhenEveryPathWasFound() {
        #expect(throws: JSONError.self) { try JSONScanner.extract(paths: ["a"], from: bytes(#"{"a":1} x"#)) }
        #expect(throws: JSONError.self) { try JSONScanner.extract(paths: ["a"], from: bytes(#"{"a":1,"b":[1,]}"#)) }
        #expect(throws: JSONError.self) { try JSONScanner.extract(paths: ["a"], from: bytes(#"{"a":1"#)) }
        #expect(throws: JSONError.self) { try JSONScanner.extract(paths: ["a"], from: bytes(#"{"a":01}"#)) }
    }

    @Test func extractionAgreesWithTheFullParserOnRandomDocuments() throws {
        var random = RandomJSON(seed: 7)
        for _ in 0..<300 {
            let value = random.value()
            var paths: [JSONPath] = []
            collectPaths(value, prefix: [], into: &paths)
            paths += ["nope", "a.nope", "0.0.0"]
            let extracted = try JSONScanner.extract(paths: paths, from: value.serializedBytes())
            for (path, found) in zip(paths, extracted) {
                #expect(found == scalar(value.value(at: path)), "\(path) in \(value)")
            }
        }
    }

    private func collectPaths(_ value: JSONValue, prefix: [String], into paths: inout [JSONPath]) {
        let children: [(String, JSONValue)]
        switch value {
        case .object(let members): children = members.map { ($0.key, $0.value) }
        case .array(let elements): children = elements.enumerated().map { (String($0.offset), $0.element) }
        default: children = []
        }
        for (segment, child) in children {
            guard let path = try? JSONPath(parsing: (prefix + [segment]).joined(separator: ".")) else { continue }
            paths.append(path)
            collectPaths(child, prefix: prefix + [segment], into: &paths)
        }
    }

    private func scalar(_ value: JSONValue?) -> JSONScalar? {
        switch value {
        case nil: return nil
        case .object?: return .object
        case .array?: return .array
        case .string(let text)?: return .string(text)
        case .number(let text)?: return .number(text)
        case .bool(let flag)?: return .bool(flag)
        case .null?: return .null
        }
    }
}

@Suite("Dotted paths")
struct JSONPathTests {
    @Test func segmentsAreSplitAtDots() throws {
        #expect(try JSONPath(parsing: "session.teacher.id").segments == ["session", "teacher", "id"])
        #expect(try JSONPath(parsing: "items.0.id").description == "items.0.id")
        for valid in ["teacher-id", "teacher_id", "$ref", "@type", "café", "名前", "0"] {
            #expect(throws: Never.self, "\(valid)") { try JSONPath(parsing: valid) }
        }
    }

    @Test func malformedPathsAreRefusedWithThePosition() {
        let cases: [(String, JSONPathError.Code, Int)] = [
            ("", .emptyPath, 0), ("a..b", .emptySegment, 2), (".a", .emptySegment, 0), ("a.", .emptySegment, 2),
            ("a b", .invalidCharacter, 1), ("a:b", .invalidCharacter, 1), ("{a}", .invalidCharacter, 0),
            ("é\u{A0}", .invalidCharacter, 1),
        ]
        for (text, code, offset) in cases {
            let error = #expect(throws: JSONPathError.self, "\(text)") { try JSONPath(parsing: text) }
            #expect(error?.code == code, "\(text)")
            #expect(error?.offset == offset, "\(text)")
        }
        let error = #expect(throws: JSONPathError.self) { try JSONPath(parsing: "teacher id") }
        #expect(
            error?.message
                == "path `teacher id` has ` ` at offset 7: segments may hold letters, digits, `_`, `-`, `$` and `@`,"
                + " joined by dots"
        )
    }
}
