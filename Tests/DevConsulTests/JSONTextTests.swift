import Foundation
import Testing
@testable import DevConsul

/// The agent's own JSON writer: what JSONSerialization wrote, minus its cost.
@Suite(.timeLimit(.minutes(1))) struct JSONTextTests {
    func text(_ value: Any) -> String { String(decoding: JSONText.encode(value), as: UTF8.self) }

    @Test func keysInOrderTypesKeptAndEmptiesWritten() {
        let check: [String: Any] = ["Status": "passing", "CreateIndex": 12, "ModifyIndex": UInt64(13), "Definition": [String: Any](),
                                    "ServiceTags": ["grpc", "v2"], "Leader": true, "Meta": ["b": "2", "a": "1"], "Value": NSNull()]
        #expect(text(check) == #"{"CreateIndex":12,"Definition":{},"Leader":true,"Meta":{"a":"1","b":"2"},"ModifyIndex":13,"#
            + #""ServiceTags":["grpc","v2"],"Status":"passing","Value":null}"#)
        #expect(text([[String: Any]]()) == "[]" && text(0) == "0" && text(false) == "false")
        #expect(text([1.5, 2.0, Double.nan]) == "[1.5,2,null]")
    }

    @Test func stringsAreEscapedAsJSONNeedsAndNoMore() throws {
        let awkward = "a\"b\\c\nd\te\r\u{01}/é✓"
        #expect(text(awkward) == #""a\"b\\c\nd\te\r\u0001/é✓""#)
        // And what a JSON parser reads back is the string itself.
        let decoded = try JSONSerialization.jsonObject(with: Data(JSONText.encode([awkward]))) as? [String]
        #expect(decoded == [awkward])
    }
}
