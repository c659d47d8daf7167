import NIOCore

/// Serves every connection a listening channel accepts, and shuts down without dropping one.
///
/// NIO requires each accepted `NIOAsyncChannel` to be consumed (`executeThenClose`); a connection left
/// in the accept buffer when the loop stops traps. So cancellation does not stop the loop: it closes the
/// listening socket, the loop drains what was already accepted and ends, and only then are the
/// in-flight handlers (blocking queries) cancelled so they answer and close.
func serveConnections<Connection: Sendable>(
    _ server: NIOAsyncChannel<Connection, Never>,
    handle: @escaping @Sendable (Connection) async -> Void
) async throws {
    // Unstructured on purpose: it must outlive the caller's cancellation long enough to drain.
    let acceptor = Task {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await handle(connection) }
                }
            }
            group.cancelAll()
        }
    }
    try await withTaskCancellationHandler {
        try await acceptor.value
    } onCancel: {
        server.channel.close(promise: nil)
    }
}

/// Wraps an accepted connection so that, if NIO drops it before anyone consumes it, it is closed rather
/// than trapping. That happens when a connection is accepted in the instant the listening socket closes;
/// NIO's non-deprecated initialiser turns it into a process crash, so an agent (or a test process) could
/// die on shutdown. Handlers still use `executeThenClose`; this only covers the connection nobody saw.
func wrapAcceptedConnection<Inbound: Sendable, Outbound: Sendable>(
    _ channel: Channel, as: NIOAsyncChannel<Inbound, Outbound>.Type
) throws -> NIOAsyncChannel<Inbound, Outbound> {
    try NIOAsyncChannel(synchronouslyWrapping: channel)
}
