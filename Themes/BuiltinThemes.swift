/// The theme files of this folder, compiled into the binary (SwiftPM's `embedInCode`), so an installed
/// `opsdeck` has its themes wherever it runs. Files in the user's theme directories come first.
public enum BuiltinThemes {
    public static let files: [String: String] = [
        "dark": String(decoding: PackageResources.dark_theme, as: UTF8.self),
        "light": String(decoding: PackageResources.light_theme, as: UTF8.self),
        "mono": String(decoding: PackageResources.mono_theme, as: UTF8.self),
    ]
}
