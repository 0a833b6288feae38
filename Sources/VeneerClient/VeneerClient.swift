// VeneerClient
