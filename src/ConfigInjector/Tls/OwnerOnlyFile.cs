namespace ConfigInjector.Tls;

/// <summary>
/// A new file only its owner may read, owner-only from its first byte: a file made with the umask and narrowed
/// afterwards could be opened by anyone in between, and an open handle keeps reading after the mode changes.
/// </summary>
internal static class OwnerOnlyFile
{
    /// <summary>Creates <paramref name="path"/>, failing if it exists.</summary>
    public static FileStream CreateNew(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new FileStream(path, options);
    }
}
