// The models (HealthCheck, ServiceEntry, KVPair, ...) live in a module without the network stack, so
// code that only reads them (the console's pure part) links none; users of the client see them as before.
@_exported import ConsulModels
