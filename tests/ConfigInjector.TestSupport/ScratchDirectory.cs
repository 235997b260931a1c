namespace ConfigInjector.TestSupport;

/// <summary>A fresh temporary working directory, optionally seeded with the repository's examples.</summary>
public static class ScratchDirectory
{
    public static string Create()
    {
        var path = Path.Combine(Path.GetTempPath(), "configinjector-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static string CreateWithExamples()
    {
        var path = Create();
        CopyTree(RepoPaths.Examples, Path.Combine(path, "examples"));
        return path;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from))
            CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}
