// VeneerServer
