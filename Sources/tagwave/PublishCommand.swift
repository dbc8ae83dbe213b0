import ArgumentParser
import Foundation
import Logging
import TagwaveEvents
import TagwavePublisher
import TagwaveRedis

/// `tagwave publish`: append one event to the stream, as a service's publisher would.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one event to the stream; prints its stream entry id, or `spooled #N`.",
        discussion: """
            Example: tagwave publish --type session.created --payload '{"teacherId":"t1","schoolId":"s1"}' --source api
            The event is checked before it is sent (exit 65 naming the field at fault). Without --spool, an \
            unreachable Redis exits 69 and nothing is published. With --spool PATH the event is stored in PATH \
            instead and delivered in order, with anything spooled earlier, by the next `tagwave publish --spool PATH` \
            that reaches Redis.
            """)

    @OptionGroup var redis: RedisOptions
    @Option(help: "The dotted event type, e.g. session.created.") var type: String
    @Option(help: #"The payload: a JSON object, e.g. '{"teacherId":"t1"}'."#) var payload: String
    @Option(help: "The event id, for idempotency (default: a generated time-ordered id).") var id: String?
    @Option(help: "The producing service.") var source: String?
    @Option(help: "The stream to append to.") var stream = "events"
    @Option(help: "A spool file that keeps the event while Redis is unreachable (its directory must exist).")
    var spool: String?

    func run() async throws {
        // One line on stderr says what went wrong; the library's own log lines only with TAGWAVE_LOG_LEVEL.
        let quiet = ProcessInfo.processInfo.environment["TAGWAVE_LOG_LEVEL"] == nil
        Tagwave.bootstrapLogging(level: quiet ? .critical : nil)
        try await reportingErrors {
            let logger = Logger(label: "tagwave.publish")
            let client = try redis.client(label: "tagwave.publish")
            let configuration = PublisherConfiguration(stream: stream, spoolPath: spool)
            do {
                let publisher = try Publisher(redis: client, configuration: configuration, logger: logger)
                let event = Event(type: type, payload: Array(payload.utf8), id: id, source: source)
                let receipt = try await publisher.publish(event)
                switch receipt.outcome {
                case .delivered(let streamID):
                    print(streamID)
                case .spooled(let sequence):
                    print("spooled #\(sequence)")
                    // Spooled behind earlier events while Redis may be up: try to deliver them all now.
                    do {
                        let delivered = try await publisher.drain()
                        printError(
                            "delivered \(delivered) spooled event(s) from \(spool ?? "the spool"), this one included")
                    } catch {
                        let waiting = (try? await publisher.spooledCount()).map { "\($0) event(s)" } ?? "events"
                        printError("\(waiting) wait in \(spool ?? "the spool") for Redis: \(error)")
                    }
                }
                await publisher.shutdown()
                await client.shutdown()
            } catch let error as PublisherError {
                await client.shutdown()
                throw CommandError(message: error.description, code: Self.exitCode(for: error))
            }
        }
    }

    private static func exitCode(for error: PublisherError) -> ExitCode {
        switch error.code {
        case .invalidEvent: ExitCodes.dataError
        case .invalidConfiguration: ExitCode.validationFailure
        case .redisUnavailable, .redisRefused, .spool: ExitCodes.unavailable
        default: ExitCodes.internalError
        }
    }
}
