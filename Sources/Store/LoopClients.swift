import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// PostgreSQL clients, one per event loop, each keeping its connections on its own loop, so that the
/// store chooses which thread finishes a search.
///
/// search-server runs a call's tasks on the loop that woke them: a search goes on, after PostgreSQL's
/// answer, on the loop of the connection that brought the answer. With one client over the whole group
/// that loop was chance. Now the searches asked on a loop are batched apart (`AreaStore`), and a batch
/// goes to the next loop's client on which no search is asked while more than one is asked on its own
/// loop (one busy gRPC connection: one core reads the calls and writes the answers, the other sends the
/// statements and builds the pages), else to its own loop's (a lone search, or calls on every loop: each
/// stays where it is, no thread hops).
///
/// Measured on 2 cores, so 2 loops (release search-server as deployed, Paris, h2load, six alternations on
/// one binary; BENCHMARKS.md), medians against every batch on its own loop: one connection at 32 streams
/// 5,682 against 4,694 calls/s, four connections 6,088 against 5,904 (one stream: within the noise).
/// Always another loop's client gave 5,124 / 5,736: with four connections every call crossed threads both
/// ways for nothing. Then a lone search kept on its own loop (seventh session): at one stream the server's
/// CPU per call fell by 10-15 % in most paired runs (the statement's write and the answer no longer wake the
/// other loop through its eventfd), and at 32 streams on one connection it hardly ever applies. Not
/// measured with more loops, where busy loops would all send their batches to the first idle one.
public struct LoopClients: Sendable {
    /// Every client: each must run (`PostgresClient.run()`) for as long as the store is used.
    public let all: [PostgresClient]
    private let loops: [any EventLoop]
    /// Per loop: searches asked there and not answered yet.
    private let asked: [AskedSearches]

    /// One client over whatever loops its own pool uses (tests, tools): nothing to choose.
    public init(_ client: PostgresClient) {
        all = [client]
        loops = []
        asked = [AskedSearches()]
    }

    /// One client per loop of `group`, `connections` shared out between them; with fewer connections than
    /// loops, the first `connections` loops get one each and the searches asked on the others go with the
    /// first's (the setting stays the number opened). `configuration` makes a client's configuration for
    /// its share.
    public init(group: any EventLoopGroup, connections: Int, backgroundLogger: Logger,
                configuration: (_ connections: Int) -> PostgresClient.Configuration) {
        let loops = Array(group.makeIterator().prefix(max(1, connections)))
        self.loops = loops
        asked = loops.map { _ in AskedSearches() }
        all = loops.indices.map { index in
            PostgresClient(configuration: configuration(Self.share(of: connections, loops: loops.count, index: index)),
                           eventLoopGroup: loops[index], backgroundLogger: backgroundLogger)
        }
    }

    /// Loop `index`'s part of `connections` (8 over 3 loops: 3, 3, 2); there are never more loops than
    /// connections.
    static func share(of connections: Int, loops: Int, index: Int) -> Int {
        connections / loops + (index < connections % loops ? 1 : 0)
    }

    /// The place of the loop running the caller among the clients' (0 off them, or with one client).
    var currentLoop: Int { loops.firstIndex { $0.inEventLoop } ?? 0 }

    /// Counts a search asked on loop `index` until `body` returns.
    func asking<T>(on index: Int, _ body: () async throws -> T) async rethrows -> T {
        asked[index].count.add(1, ordering: .relaxed)
        defer { asked[index].count.subtract(1, ordering: .relaxed) }
        return try await body()
    }

    /// The client for a statement of searches asked on loop `index` (they are counted there, `asking`):
    /// loop `index`'s own while one search at most is asked there, else the next loop on which none is
    /// asked, else loop `index`'s own.
    func statementClient(forSearchesOn index: Int) -> StatementClient {
        if asked[index].count.load(ordering: .relaxed) > 1 {
            for step in 1..<all.count {
                let other = (index + step) % all.count
                if asked[other].count.load(ordering: .relaxed) == 0 { return StatementClient(client: all[other], isAnotherLoops: true) }
            }
        }
        return StatementClient(client: all[index], isAnotherLoops: false)
    }

    /// The client on the caller's loop: for a query whose answer the caller finishes itself.
    var near: PostgresClient { all[currentLoop] }
}

/// Where a statement of searches goes (`LoopClients.statementClient(forSearchesOn:)`).
struct StatementClient {
    let client: PostgresClient
    /// Another loop's client: the loop that asked only waits for the answers (`SearchBatches` sends it
    /// smaller batches).
    let isAnotherLoops: Bool
}

/// Searches asked on one loop and not answered yet.
private final class AskedSearches: Sendable {
    let count = Atomic<Int>(0)
}
