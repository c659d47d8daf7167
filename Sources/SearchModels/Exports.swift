@_exported import Geo
