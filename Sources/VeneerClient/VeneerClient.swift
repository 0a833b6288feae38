// VeneerClient: the Swift SDK for Veneer's Intempt-compatible API (DESIGN.md §2 and §10: "a Swift SDK with
// the Node SDK's surface"). Not built yet; the module exists so that the module graph and its one-way
// imports (Foundation and AsyncHTTPClient only, never VeneerServer) hold from the start.
