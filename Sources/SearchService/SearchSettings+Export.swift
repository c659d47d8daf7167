// The settings table is part of the service's API: its users see it through SearchService.
@_exported import SearchSettings
