/// The executor a call's work prefers, handed on to the unstructured tasks that work starts.
///
/// Swift hands a task executor preference (`withTaskExecutorPreference`) down to child tasks only. A
/// `Task {}` started on a call's path (the operation `withDeadline` races, a batch of searches) runs on
/// the global pool instead: a thread switch and a wake-up away from the event loop that holds the call's
/// sockets, and on a machine of two cores those wake-ups cost more than the work. Code that starts such a
/// task passes `RequestExecutor.current` as its preference (nil, the default: the global pool).
public enum RequestExecutor {
    @TaskLocal public static var current: (any TaskExecutor)?

    /// Runs `body`, its child tasks, and the tasks they start with `current`, on `executor`.
    public static func run<T>(on executor: any TaskExecutor, _ body: () async throws -> T) async rethrows -> T {
        try await $current.withValue(executor) {
            try await withTaskExecutorPreference(executor, operation: body)
        }
    }
}
