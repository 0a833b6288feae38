import NIOCore

extension OriginConnectionPool {
    /// An idle pass-through connection to `key` that is still alive, taken out of the pool.
    func takeIdlePassThroughConnection(for key: OriginConnectionKey) -> PassThroughOriginConnection? {
        eventLoop.preconditionInEventLoop()
        while let connection = passThroughIdle.popLast(for: key) {
            connection.pool = nil
            if connection.isActive { return connection }
        }
        return nil
    }

    /// A new pass-through connection to `key`, handed to `completion` on this loop.
    func connectPassThrough(
        key: OriginConnectionKey, tls: OriginTLS?, connectTimeout: TimeAmount,
        completion: @escaping (Result<PassThroughOriginConnection, OriginError>) -> Void
    ) {
        connectChannel(key: key, tls: tls, connectTimeout: connectTimeout) { result in
            completion(
                result.flatMap { channel in
                    do {
                        return .success(try PassThroughOriginConnection.configure(channel, key: key))
                    } catch {
                        channel.close(promise: nil)
                        return .failure(.connectFailed("\(error)"))
                    }
                })
        }
    }

    /// Gives a connection back after a complete response; kept when `reusable` and there is room.
    func release(_ connection: PassThroughOriginConnection, reusable: Bool) {
        eventLoop.preconditionInEventLoop()
        connection.detach()
        guard reusable, connection.isActive, passThroughIdle.count(for: connection.key) < maximumIdlePerKey else {
            connection.close()
            return
        }
        passThroughIdle.append(connection, for: connection.key)
        connection.pool = self
    }

    /// An idle pass-through connection that the origin closed leaves the pool.
    func idlePassThroughConnectionClosed(_ connection: PassThroughOriginConnection) {
        passThroughIdle.remove(connection, for: connection.key)
    }
}
