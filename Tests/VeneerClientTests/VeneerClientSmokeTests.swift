import Testing
@testable import VeneerClient
