// Log lines as values (entries, filters, formats, start points) live in LogLines, which links no Kafka
// client; the console's pure part uses them too.
@_exported import LogLines
