import Logging
import NIOCore
import NIOPosix
import PostgresNIO
@testable import Store
import Testing

/// Which of the per-loop clients a statement goes to: no database needed (a client connects only once run).
@Suite(.timeLimit(.minutes(1))) struct LoopClientsTests {
    @Test func connectionsAreSharedOutBetweenTheLoops() {
        #expect((0..<3).map { LoopClients.share(of: 8, loops: 3, index: $0) } == [3, 3, 2])
        #expect((0..<2).map { LoopClients.share(of: 8, loops: 2, index: $0) } == [4, 4])
    }

    /// Fewer connections than loops: as many clients as connections, and the searches asked on a loop
    /// without one go with the first loop's.
    @Test func fewerConnectionsThanLoopsOpenNoMore() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        defer { Task { try await group.shutdownGracefully() } }
        var shares: [Int] = []
        let clients = LoopClients(group: group, connections: 2, backgroundLogger: Logger(label: "test")) { share in
            shares.append(share)
            return StoreConfiguration().serverClientConfiguration(connections: share)
        }
        #expect(shares == [1, 1] && clients.all.count == 2)
        let loops = Array(group.makeIterator())
        #expect(try await loops[2].submit { clients.currentLoop }.get() == 0)
        #expect(try await loops[1].submit { clients.currentLoop }.get() == 1)
    }

    /// A lone search's batch stays on its own loop; with more searches asked there, a batch goes to the
    /// next loop on which none is asked, else stays on its own loop.
    @Test func aBusyLoopsBatchGoesToALoopWithoutSearchesOfItsOwn() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        defer { Task { try await group.shutdownGracefully() } }
        let loops = Array(group.makeIterator())
        var shares: [Int] = []
        let clients = LoopClients(group: group, connections: 8, backgroundLogger: Logger(label: "test")) { share in
            shares.append(share)
            return StoreConfiguration().serverClientConfiguration(connections: share)
        }
        #expect(shares == [3, 3, 2] && clients.all.count == 3)
        for (index, loop) in loops.enumerated() {
            let (current, near) = try await loop.submit { (clients.currentLoop, clients.near) }.get()
            #expect(current == index && near === clients.all[index])
        }
        #expect(clients.currentLoop == 0, "off the loops: the first")

        // (The searches a batch carries are asked on its loop: held open here.)
        await clients.asking(on: 0) {
            #expect(!clients.statementClient(forSearchesOn: 0).isAnotherLoops, "a lone search stays")
            #expect(clients.statementClient(forSearchesOn: 0).client === clients.all[0])
            await clients.asking(on: 0) {
                #expect(clients.statementClient(forSearchesOn: 0).client === clients.all[1], "two: the next loop")
                #expect(clients.statementClient(forSearchesOn: 0).isAnotherLoops)
                await clients.asking(on: 1) {
                    #expect(clients.statementClient(forSearchesOn: 0).client === clients.all[2], "the next without searches")
                    await clients.asking(on: 2) {
                        #expect(clients.statementClient(forSearchesOn: 0).client === clients.all[0], "none without: its own")
                        #expect(!clients.statementClient(forSearchesOn: 0).isAnotherLoops)
                    }
                }
            }
            // One answered: alone again.
            #expect(clients.statementClient(forSearchesOn: 0).client === clients.all[0])
        }
        await clients.asking(on: 2) {
            await clients.asking(on: 2) { #expect(clients.statementClient(forSearchesOn: 2).client === clients.all[0], "round the loops") }
        }
    }

    @Test func oneClientIsAlwaysTheOne() async throws {
        let client = PostgresClient(configuration: StoreConfiguration().clientConfiguration)
        let clients = LoopClients(client)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let chosen = try await loop.submit { (clients.currentLoop, clients.statementClient(forSearchesOn: clients.currentLoop)) }.get()
        #expect(chosen.0 == 0 && chosen.1.client === client && !chosen.1.isAnotherLoops && clients.near === client && clients.all.count == 1)
    }
}
