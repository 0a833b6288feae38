/// Whether the store reads for a page that waits, or in the background (a profile cache refresh that serves the
/// old view meanwhile). A store that can tell them apart serves background reads at a lower priority, so that
/// they do not take a core from the pages in flight: the SQLite store reads them on a connection and thread of
/// their own, at the nice value of its writes.
///
/// ```swift
/// let tail = try await StoreReadPriority.$isBackground.withValue(true) {
///     try await store.profileRead(for: identification, keys: keys, since: since)
/// }
/// ```
public enum StoreReadPriority {
    @TaskLocal public static var isBackground = false
}
