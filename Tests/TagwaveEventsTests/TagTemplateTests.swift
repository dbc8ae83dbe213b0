import TagwaveEvents
import Testing

@Suite("Tag and URL templates")
struct TagTemplateTests {
    @Test func placeholdersAreTheDistinctPathsInOrderOfAppearance() throws {
        #expect(try TagTemplate("teacher:{teacherId}").placeholders == ["teacherId"])
        #expect(try TagTemplate("school:{session.schoolId}:sessions").placeholders == ["session.schoolId"])
        #expect(try TagTemplate("{b}:{a}:{b}").placeholders == ["b", "a"])
        #expect(try TagTemplate("static-tag").placeholders.isEmpty)
    }

    @Test func stringsNumbersAndBooleansFillPlaceholders() throws {
        let template = try TagTemplate("t:{s}:{n}:{b}:{s}")
        #expect(try template.render(values: [.string("x"), .number("1.0"), .bool(false)]) == "t:x:1.0:false:x")
        #expect(try template.render(values: [.string(""), .number("-0.5e10"), .bool(true)]) == "t::-0.5e10:true:")
        #expect(try TagTemplate("static").render(values: []) == "static")
    }

    @Test func doubledBracesAreLiteralBraces() throws {
        let template = try TagTemplate("{{literal}}:{{{id}}}")
        #expect(template.placeholders == ["id"])
        #expect(try template.render(values: [.string("7")]) == "{literal}:{7}")
    }

    @Test func parseErrorsGiveTheColumnAndTheFix() {
        let cases: [(String, TemplateError.Code, Int, String)] = [
            (
                "teacher:{teacherId", .unclosedPlaceholder, 9,
                "template teacher:{teacherId has an unclosed `{` at column 9: close the placeholder with `}`,"
                    + " or write `{{` for a literal brace"
            ),
            (
                "teacher:{}", .emptyPlaceholder, 9,
                "template teacher:{} has an empty placeholder at column 9: name a payload field,"
                    + " such as {teacherId} or {session.schoolId}"
            ),
            (
                "a}b", .unmatchedBrace, 2,
                "template a}b has an unmatched `}` at column 2: write `}}` for a literal brace"
            ),
            (
                "x:{a b}", .invalidPath, 5,
                "template x:{a b} has an invalid placeholder at column 5: path `a b` has ` ` at offset 1:"
                    + " segments may hold letters, digits, `_`, `-`, `$` and `@`, joined by dots"
            ),
            ("", .emptyTemplate, 1, "the template is empty: write a tag such as teacher:{teacherId}"),
        ]
        for (text, code, column, message) in cases {
            let error = #expect(throws: TemplateError.self, "\(text)") { try TagTemplate(text) }
            #expect(error?.code == code, "\(text)")
            #expect(error?.column == column, "\(text)")
            #expect(error?.message == message, "\(text)")
            #expect(error?.isRenderError == false)
        }
        #expect((#expect(throws: TemplateError.self) { try TagTemplate("x:{a..b}") })?.column == 6)
        #expect((#expect(throws: TemplateError.self) { try TagTemplate("x:{a{b}") })?.column == 5)
        #expect(
            (#expect(throws: TemplateError.self) { try TagTemplate("é:{a b}") })?.column == 5,
            "columns count characters")
        #expect((#expect(throws: TemplateError.self) { try TagTemplate("{{a}") })?.code == .unmatchedBrace)
    }

    @Test func renderingFailsWhenTheFieldIsMissingNullOrNotAScalar() throws {
        let template = try TagTemplate("teacher:{teacherId}")
        let missing = #expect(throws: TemplateError.self) { try template.render(values: [nil]) }
        #expect(missing?.code == .missingValue)
        #expect(missing?.path == "teacherId")
        #expect(missing?.isRenderError == true)
        #expect(missing?.message == "template teacher:{teacherId} needs payload field `teacherId`, which is missing")
        let null = #expect(throws: TemplateError.self) { try template.render(values: [.null]) }
        #expect(null?.code == .nullValue)
        #expect(null?.message == "template teacher:{teacherId} needs payload field `teacherId`, which is null")
        let object = #expect(throws: TemplateError.self) { try template.render(values: [.object]) }
        #expect(object?.code == .nonScalarValue)
        #expect(
            object?.message
                == "template teacher:{teacherId} needs payload field `teacherId`, which is an object:"
                + " only a string, number or boolean fills a placeholder"
        )
        #expect(
            (#expect(throws: TemplateError.self) { try template.render(values: [.array]) })?.code == .nonScalarValue)
    }

    @Test func urlTemplatesPercentEncodeValuesButNotTheirOwnText() throws {
        let template = try TagTemplate("http://127.0.0.1:8080/api/v1/sessions?teacher={teacherId}&n={n}")
        let url = try template.render(values: [.string("a b/c?d=é&~-._"), .number("1e+5")], percentEncoding: true)
        #expect(url == "http://127.0.0.1:8080/api/v1/sessions?teacher=a%20b%2Fc%3Fd%3D%C3%A9%26~-._&n=1e%2B5")
        #expect(
            try template.render(values: [.string("a b"), .number("1")])
                == "http://127.0.0.1:8080/api/v1/sessions?teacher=a b&n=1")
    }
}

@Suite("Rendering a rule's templates from one scan of the payload")
struct TemplateSetTests {
    let rule = TemplateSet(
        tags: [try! TagTemplate("teacher:{teacherId}"), try! TagTemplate("school:{session.schoolId}:sessions")],
        urls: [try! TagTemplate("http://127.0.0.1:8080/api/v1/sessions?teacher={teacherId}&school={session.schoolId}")])

    @Test func thePathsAreTheUnionOfTheTemplatesPlaceholders() {
        #expect(rule.paths == ["teacherId", "session.schoolId"])
        #expect(rule.scanner.paths == rule.paths)
    }

    @Test func oneScanRendersEveryTagAndURL() throws {
        let payload = bytes(#"{"teacherId":"t 1","history":[{"big":"ignored"}],"session":{"schoolId":42}}"#)
        let rendered = try rule.render(payload: payload)
        #expect(rendered.tags == ["teacher:t 1", "school:42:sessions"])
        #expect(rendered.urls == ["http://127.0.0.1:8080/api/v1/sessions?teacher=t%201&school=42"])
        #expect(try rule.render(values: rule.scanner.extract(from: payload)) == rendered)
    }

    @Test func theFirstUnfillablePlaceholderFailsTheRender() {
        let error = #expect(throws: TemplateError.self) { try rule.render(payload: bytes(#"{"teacherId":"t1"}"#)) }
        #expect(
            error?.message
                == "template school:{session.schoolId}:sessions needs payload field `session.schoolId`,"
                + " which is missing"
        )
        #expect(throws: JSONError.self) { try rule.render(payload: bytes(#"{"teacherId":"t1""#)) }
    }

    @Test func aRuleWithoutPlaceholdersRendersItsStaticTags() throws {
        let staticRule = TemplateSet(tags: [try TagTemplate("all-sessions")])
        #expect(staticRule.paths.isEmpty)
        #expect(try staticRule.render(payload: bytes("{}")) == TemplateSet.Rendered(tags: ["all-sessions"], urls: []))
    }
}
