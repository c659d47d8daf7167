import NIOCore
import NIOPosix

/// Runs each job of a task on the event loop of `group` that enqueued it, else on the group's next loop.
///
/// A call's task is started by its connection's loop, and resumed by the loop of the socket that answered
/// it (PostgreSQL's, its own): it goes on there, in that loop's queue, where it does not wake a sleeping
/// thread as a hand-over to Swift's global pool does. Jobs enqueued from any other thread go to the
/// group's next loop. (`DeadlineTimer` fires on a loop of NIO's singleton group, the server's group by
/// default: calls that reach their deadline go on there.)
public final class EventLoopTaskExecutor: TaskExecutor {
    private let group: MultiThreadedEventLoopGroup
    private let loops: Set<ObjectIdentifier>

    public init(group: MultiThreadedEventLoopGroup) {
        self.group = group
        loops = Set(group.makeIterator().map { ObjectIdentifier($0 as AnyObject) })
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop: any EventLoop
        if let current = MultiThreadedEventLoopGroup.currentEventLoop, loops.contains(ObjectIdentifier(current as AnyObject)) {
            loop = current
        } else {
            loop = group.next()
        }
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
