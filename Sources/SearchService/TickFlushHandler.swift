import NIOCore

/// Holds a connection's flushes until the event loop has run the work already queued, then flushes once.
///
/// Responses of calls that finish together (a batch of searches answered by one statement resumes its
/// calls one after another on the loop) go out in one write instead of one each, as grpc-swift's flush
/// coalescing does; but that holds a flush up to a delay (100 µs by default), which at low load every
/// answer waited for: the loop slept until the timer fired. Here the flush is a task queued behind the
/// work at hand, and the loop never sleeps for it.
///
/// Sits at the front of a gRPC connection's pipeline (added from the transport's accept callback), so it
/// sees the connection's flushes toward the socket; with TLS, below the TLS handler, which still makes a
/// record per flush: there only the writes are batched. A close flushes first: a GOAWAY written just
/// before is sent, not dropped.
final class TickFlushHandler: ChannelOutboundHandler, RemovableChannelHandler {
    // Writes pass through untouched (ByteBuffer or IOData, by pipeline): never unwrapped.
    typealias OutboundIn = Any

    private var flushQueued = false

    func flush(context: ChannelHandlerContext) {
        guard !flushQueued else { return }
        flushQueued = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = loopBound.value
            handler.flushNow(context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        flushNow(context: context)  // a flush queued after this finds nothing to do
    }

    private func flushNow(context: ChannelHandlerContext) {
        guard flushQueued else { return }
        flushQueued = false
        context.flush()
    }
}
