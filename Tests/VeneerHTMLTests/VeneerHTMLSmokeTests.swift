import Testing
@testable import VeneerHTML
