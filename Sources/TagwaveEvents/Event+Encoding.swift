extension Event {
    /// The stream entry's fields for this event, for `XADD`: the inverse of
    /// `decode(fields:maxPayloadBytes:)`.
    ///
    /// The order is `type`, `payload`, then those of `id`, `occurred_at` (RFC 3339, UTC, with
    /// milliseconds), `source` and `traceparent` that are set, then ``metadata`` in its order.
    public func encodeFields() -> [(name: String, value: [UInt8])] {
        var fields: [(name: String, value: [UInt8])] = []
        fields.reserveCapacity(6 + metadata.count)
        fields.append(("type", Array(type.utf8)))
        fields.append(("payload", payload))
        if let id { fields.append(("id", Array(id.utf8))) }
        if let occurredAt { fields.append(("occurred_at", Array(occurredAt.rfc3339.utf8))) }
        if let source { fields.append(("source", Array(source.utf8))) }
        if let traceparent { fields.append(("traceparent", Array(traceparent.utf8))) }
        for (name, value) in metadata { fields.append((name, Array(value.utf8))) }
        return fields
    }
}
