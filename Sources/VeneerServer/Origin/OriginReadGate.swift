import NIOCore

/// Download backpressure on an origin channel: while the client connection cannot take more, the origin
/// channel's reads wait, and the one asked for meanwhile happens when the gate opens.
///
/// ```swift
/// var gate = OriginReadGate()
/// gate.read(context: context)                  // in the handler's read(context:)
/// gate.setHeld(false, context: context)        // when the client drains
/// ```
struct OriginReadGate {
    private var held = false
    private var pending = false

    mutating func setHeld(_ held: Bool, context: ChannelHandlerContext?) {
        self.held = held
        if !held, pending, let context {
            pending = false
            context.read()
        }
    }

    mutating func read(context: ChannelHandlerContext) {
        if held {
            pending = true
        } else {
            context.read()
        }
    }
}
