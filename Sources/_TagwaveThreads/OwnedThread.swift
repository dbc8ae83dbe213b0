import Foundation

/// A thread Tagwave owns, running submitted jobs one after another.
///
/// hiredis and SQLite calls block their thread. They must never run on Swift's cooperative pool
/// (two threads on a two-core machine: one blocked `XREADGROUP` would halve the process), so every
/// handle lives on one `OwnedThread` and is touched only from jobs submitted to it.
///
/// `@unchecked Sendable`: all mutable state is in ``Queue``, whose fields are only read or written
/// while holding its condition lock; the thread captures the queue, never `self`.
public final class OwnedThread: @unchecked Sendable {
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [() -> Void] = []
        var stopped = false
    }

    private let queue = Queue()

    /// Starts a thread named `name` (visible in `top -H` and debuggers).
    public init(name: String) {
        let worker = Thread { [queue] in
            // On Linux a thread's name reaches the kernel (top -H, gdb) only when set from the thread itself.
            Thread.current.name = String(name.prefix(15))
            OwnedThread.loop(queue)
        }
        worker.stackSize = 1 << 20
        worker.start()
    }

    deinit {
        shutdown()
    }

    /// Runs `body` on this thread and returns its result to the awaiting task.
    ///
    /// - Throws: whatever `body` throws, or ``OwnedThreadError`` when the thread was shut down.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = submit {
                continuation.resume(with: Result { try body() })
            }
            if !accepted {
                continuation.resume(throwing: OwnedThreadError.shutDown)
            }
        }
    }

    /// Queues `job` without waiting for it. Returns false when the thread was shut down.
    @discardableResult
    public func submit(_ job: @escaping () -> Void) -> Bool {
        queue.condition.lock()
        defer { queue.condition.unlock() }
        guard !queue.stopped else { return false }
        queue.jobs.append(job)
        queue.condition.signal()
        return true
    }

    /// Lets queued jobs finish, then ends the thread. Later submissions are refused.
    public func shutdown() {
        queue.condition.lock()
        queue.stopped = true
        queue.condition.signal()
        queue.condition.unlock()
    }

    private static func loop(_ queue: Queue) {
        while true {
            queue.condition.lock()
            while queue.jobs.isEmpty && !queue.stopped {
                queue.condition.wait()
            }
            if queue.jobs.isEmpty && queue.stopped {
                queue.condition.unlock()
                return
            }
            let batch = queue.jobs
            queue.jobs.removeAll(keepingCapacity: true)
            queue.condition.unlock()
            for job in batch {
                job()
            }
        }
    }
}

/// The error of a job submitted to an ``OwnedThread`` that was already shut down.
public enum OwnedThreadError: Error, CustomStringConvertible {
    case shutDown

    public var description: String {
        "the client was shut down: create a new one, or stop using this one after shutdown()"
    }
}
