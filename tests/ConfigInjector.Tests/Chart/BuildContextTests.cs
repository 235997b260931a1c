using System.Diagnostics;
using System.Formats.Tar;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Chart;

/// <summary>
/// The repository's <c>.dockerignore</c> as podman applies it: a context shaped like a working copy with keys lying
/// around is copied whole into a scratch image (no registry, no build step), and the image's files are listed. Without
/// podman this fails with the reason; it never skips.
/// </summary>
public class BuildContextTests
{
    private static readonly string[] Kept = ["webhook-certs/README.md", "webhook-certs/generate.sh", "src/ConfigInjector/Program.cs", "artifacts/publish/configinjector", "Dockerfile"];
    private static readonly string[] LeftOut =
        [".tools/helm/helm", "webhook-certs/dev/tls.key", "webhook-certs/dev/ca.crt", "webhook-certs/shop/tls.key", "webhook-certs/shop/ca.key", "src/ConfigInjector/dev.key", "deploy/vault-client.pem", "signing.p12"];

    [Fact]
    public async Task Private_keys_and_generated_certificates_never_enter_the_build_context()
    {
        var context = ScratchDirectory.Create();
        File.Copy(RepoPaths.Combine(".dockerignore"), Path.Combine(context, ".dockerignore"));
        foreach (var file in Kept.Concat(LeftOut))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(context, file))!);
            await File.WriteAllTextAsync(Path.Combine(context, file), file);
        }
        var containerfile = Path.Combine(ScratchDirectory.Create(), "Containerfile");
        await File.WriteAllTextAsync(containerfile, "FROM scratch\nCOPY . /context/\n");
        var image = "localhost/configinjector-context-check:" + Guid.NewGuid().ToString("N")[..12];
        var archive = Path.Combine(ScratchDirectory.Create(), "image.tar");

        try
        {
            await PodmanAsync("build", "-q", "-f", containerfile, "-t", image, context);
            await PodmanAsync("save", "--format", "docker-archive", "-o", archive, image);
        }
        finally
        {
            await PodmanAsync("rmi", "-f", image);
        }
        var copied = FilesIn(archive).Where(f => f.StartsWith("context/", StringComparison.Ordinal)).Select(f => f["context/".Length..]).ToHashSet();

        Assert.All(Kept, f => Assert.Contains(f, copied));
        Assert.All(LeftOut, f => Assert.DoesNotContain(f, copied));
    }

    private static List<string> FilesIn(string dockerArchive)
    {
        var files = new List<string>();
        using var outer = new TarReader(File.OpenRead(dockerArchive));
        while (outer.GetNextEntry() is { } entry)
        {
            if (!entry.Name.EndsWith(".tar", StringComparison.Ordinal) || entry.DataStream is null)
                continue;
            using var layer = new TarReader(entry.DataStream);
            while (layer.GetNextEntry() is { } file)
            {
                if (file.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                    files.Add(file.Name.TrimStart('.', '/'));
            }
        }
        return files;
    }

    private static async Task PodmanAsync(params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo("podman", args) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("podman did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(process.ExitCode == 0, $"podman {string.Join(' ', args)}: {await stdout}{await stderr}");
    }
}
