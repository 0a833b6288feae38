import Testing
@testable import VeneerServer
