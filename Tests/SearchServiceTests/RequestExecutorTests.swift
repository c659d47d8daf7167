import Deadlines
import NIOCore
import NIOPosix
import SearchService
import Testing

/// A call's work stays on the server's event loops (`RequestExecutor` with `EventLoopTaskExecutor`): what
/// the call awaits, the tasks it starts, and what resumes it from another thread.
@Suite(.timeLimit(.minutes(1))) struct RequestExecutorTests {
    @Test func aCallsWorkAndTheTasksItStartsRunOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let seen = try await RequestExecutor.run(on: EventLoopTaskExecutor(group: group)) {
            var seen = ["call": loop.inEventLoop]
            // withDeadline runs its operation in an unstructured task, which inherits no executor preference.
            seen["withDeadline's operation"] = try await withDeadline(.seconds(10)) { loop.inEventLoop }
            seen["a child task"] = await withTaskGroup(of: Bool.self) { tasks in
                tasks.addTask { loop.inEventLoop }
                return await tasks.next() ?? false
            }
            try await Task.sleep(for: .milliseconds(5))  // resumed by a timer on another thread
            seen["after a sleep"] = loop.inEventLoop
            return seen
        }
        #expect(seen == ["call": true, "withDeadline's operation": true, "a child task": true, "after a sleep": true])
        #expect(try await withDeadline(.seconds(10)) { loop.inEventLoop } == false)
        try await group.shutdownGracefully()
    }

    /// A task resumed by a loop goes on there (as a search answered on its PostgreSQL connection's loop).
    @Test func aTaskGoesOnOnTheLoopThatResumedIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let after = try await RequestExecutor.run(on: EventLoopTaskExecutor(group: group)) {
            var after: [Int] = []
            for index in [1, 1, 0, 0, 1] {
                // Later than the task's suspension: a continuation resumed before it goes on where it was.
                try await loops[index].scheduleTask(in: .milliseconds(20)) {}.futureResult.get()
                after.append(loops.firstIndex { $0.inEventLoop } ?? -1)
            }
            return after
        }
        #expect(after == [1, 1, 0, 0, 1])
        try await group.shutdownGracefully()
    }
}
