import Foundation

// The KV store: GET (exact, recurse, keys, raw), PUT (flags, cas), DELETE (recurse, cas).
extension ConsulAPI {
    /// Consul's default kv_max_value_size.
    static let maxValueSize = 512 * 1024

    func kv(_ request: APIRequest, _ key: String) async throws -> APIResponse {
        switch request.method {
        case "GET": return try await kvGet(request, key)
        case "PUT": return try kvPut(request, key)
        default: return try kvDelete(request, key)
        }
    }

    private func kvGet(_ request: APIRequest, _ key: String) async throws -> APIResponse {
        let q = request.query
        let keysOnly = q.has("keys")
        let recurse = q.has("recurse") || keysOnly
        if key.isEmpty && !recurse { throw APIFailure(400, "Missing key name") }
        let separator = q.value("separator") ?? q.value("seperator") ?? ""
        let raw = q.has("raw")
        return try await blockingRead(request) { catalog in
            let index = catalog.kvIndex(for: key, recurse: recurse)
            if keysOnly {
                var names: [String] = []
                for name in catalog.kv.keys.sorted() where name.hasPrefix(key) {
                    var entry = name
                    if !separator.isEmpty, let range = name.dropFirst(key.count).range(of: separator) {
                        entry = String(name[..<range.upperBound])
                    }
                    if names.last != entry { names.append(entry) }
                }
                if names.isEmpty && !key.isEmpty { return (APIResponse(status: 404), index) }
                return (.json(names), index)
            }
            let entries = recurse
                ? catalog.kv.values.filter { $0.key.hasPrefix(key) }.sorted { $0.key < $1.key }
                : catalog.kv[key].map { [$0] } ?? []
            guard !entries.isEmpty else { return (APIResponse(status: 404), index) }
            if raw && !recurse {
                return (APIResponse(status: 200, headers: [("Content-Type", "text/plain"), ("X-Content-Type-Options", "nosniff"),
                                                           ("Content-Security-Policy", "sandbox")],
                                    body: entries[0].value ?? []), index)
            }
            return (.json(entries.map(catalog.kvJSON)), index)
        }
    }

    private func kvPut(_ request: APIRequest, _ key: String) throws -> APIResponse {
        let q = request.query
        if key.isEmpty { throw APIFailure(400, "Missing key name") }
        if key.hasPrefix("/") || key.split(separator: "/").contains("..") {
            throw APIFailure(400, "Invalid key name: \"\(key)\"")
        }
        if [q.has("cas"), q.has("acquire"), q.has("release")].filter({ $0 }).count > 1 {
            throw APIFailure(400, "Conflicting flags: \(q.encoded)")
        }
        // Locks need sessions, which devconsul does not have: no session can exist, so every acquire and
        // release fails as Consul fails one with a missing or unknown session (never a lock granted).
        if let session = q.value("acquire") ?? q.value("release") {
            throw APIFailure(500, session.isEmpty ? "Missing session" : "invalid session \"\(session)\"")
        }
        let flags = try parseUInt(q.value("flags"))
        let cas = try q.value("cas").map { try parseUInt($0) }
        guard request.body.count <= Self.maxValueSize else {
            throw APIFailure(413, "Request body(\(request.body.count) bytes) too large, max size: \(Self.maxValueSize) bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.")
        }
        let written = state.write { catalog -> Bool in
            let existing = catalog.kv[key]
            if let cas {
                if cas == 0 && existing != nil { return false }
                if cas != 0 && existing?.modifyIndex != cas { return false }
            }
            let index = catalog.touchKV()
            catalog.kv[key] = Catalog.Entry(key: key, value: request.body, flags: flags,
                                            createIndex: existing?.createIndex ?? index, modifyIndex: index)
            catalog.tombstones.removeValue(forKey: key)
            return true
        }
        return .json(written)
    }

    private func kvDelete(_ request: APIRequest, _ key: String) throws -> APIResponse {
        let q = request.query
        let recurse = q.has("recurse")
        if key.isEmpty && !recurse { throw APIFailure(400, "Missing key name") }
        if recurse && q.has("cas") { throw APIFailure(400, "Conflicting flags: \(q.encoded)") }
        let cas = try q.value("cas").map { try parseUInt($0) }
        let deleted = state.write { catalog -> Bool in
            if let cas {
                guard cas > 0, let existing = catalog.kv[key], existing.modifyIndex == cas else { return false }
            }
            let doomed = recurse ? catalog.kv.keys.filter { $0.hasPrefix(key) } : (catalog.kv[key] == nil ? [] : [key])
            guard !doomed.isEmpty else { return true }
            catalog.deleteKV(doomed, at: catalog.touchKV())
            return true
        }
        return .json(deleted)
    }

    /// Go's strconv.ParseUint, with its error text (Consul answers 500 with it).
    private func parseUInt(_ text: String?) throws -> UInt64 {
        guard let text, !text.isEmpty else { return 0 }
        guard let value = UInt64(text) else {
            throw APIFailure(500, "strconv.ParseUint: parsing \"\(text)\": invalid syntax")
        }
        return value
    }
}
