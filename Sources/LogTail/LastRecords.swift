import Kafka

/// `--from -N`: while the backlog is read, keeps only the newest N released records, then passes
/// everything through.
struct LastRecords {
    private let limit: Int?
    private var held: [KafkaRecord] = []
    private(set) var isCollecting: Bool

    init(limit: Int?) {
        self.limit = limit
        isCollecting = limit != nil
    }

    mutating func take(_ record: consuming KafkaRecord, into out: inout [KafkaRecord]) {
        guard isCollecting, let limit else { out.append(record); return }
        held.append(record)
        if held.count >= 2 * limit { held.removeFirst(held.count - limit) }
    }

    mutating func finish(into out: inout [KafkaRecord]) {
        guard isCollecting, let limit else { return }
        out += held.suffix(limit)
        held = []
        isCollecting = false
    }
}
