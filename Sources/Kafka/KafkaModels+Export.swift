// Records as plain values live in KafkaModels (no librdkafka), for code that only reads them.
@_exported import KafkaModels
