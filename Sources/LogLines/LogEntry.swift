import Foundation
import KafkaModels

/// A record as a log line: who wrote it, how severe, what it says.
///
/// search-server ships JSON objects (`ts`, `level`, `instance`, `message`, `source`, `meta`; see
/// SearchService's LogRecord). Anything else is taken as a plain text line whose instance is the
/// record key, or the partition when there is no key. Text here is as received: sanitize before
/// drawing it.
public struct LogEntry: Sendable, Equatable {
    public var record: KafkaRecord
    public var instance: String
    public var level: String?
    public var message: String
    public var source: String?
    public var meta: [(key: String, value: String)]

    public static func == (a: LogEntry, b: LogEntry) -> Bool {
        a.record == b.record && a.instance == b.instance && a.level == b.level && a.message == b.message
            && a.source == b.source && a.meta.elementsEqual(b.meta) { $0 == $1 }
    }

    /// Takes the record over (a record moved in is not copied).
    public init(_ record: consuming KafkaRecord) {
        let fields = Fields(record)
        instance = fields.instance
        level = fields.level
        message = fields.message
        source = fields.source
        meta = fields.meta
        self.record = record
    }

    /// `message key=value ...`, the text filters match and the text output prints.
    public var text: String { Fields.text(message, meta) }

    /// What a record says, read from it without keeping it (the logs pane keeps only its line).
    public struct Fields: Sendable {
        public var instance: String
        public var level: String?
        public var message: String
        public var source: String?
        public var meta: [(key: String, value: String)]

        public init(_ record: borrowing KafkaRecord) {
            let fallbackInstance = Self.unstructuredInstance(record)
            if !Self.isUnstructured(record.value),
               let object = try? JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any],
               let message = object["message"] as? String {
                instance = (object["instance"] as? String) ?? fallbackInstance
                level = object["level"] as? String
                self.message = message
                source = object["source"] as? String
                meta = ((object["meta"] as? [String: Any]) ?? [:])
                    .map { (key: $0.key, value: ($0.value as? String) ?? "\($0.value)") }
                    .sorted { $0.key < $1.key }
            } else {
                instance = fallbackInstance
                level = nil
                message = String(decoding: record.value, as: UTF8.self)
                source = nil
                meta = []
            }
        }

        /// `message key=value ...`, the text filters match and the text output prints.
        public var text: String { Self.text(message, meta) }

        /// A value that cannot be search-server's JSON object: its message is the value as it is, with no
        /// level (a line made from the bytes needs no parse, and no `String` of its own).
        public static func isUnstructured(_ value: [UInt8]) -> Bool { value.first != UInt8(ascii: "{") }

        /// An unstructured record's instance: its key, or the partition when it has none.
        public static func unstructuredInstance(_ record: borrowing KafkaRecord) -> String {
            record.key.map { String(decoding: $0, as: UTF8.self) } ?? "\(record.topic)[\(record.partition)]"
        }

        static func text(_ message: String, _ meta: [(key: String, value: String)]) -> String {
            meta.isEmpty ? message : message + " " + meta.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }
}
