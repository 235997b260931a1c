using System.Diagnostics;

namespace ConfigInjector.TestSupport;

/// <summary>
/// Debian's headless Chromium (/usr/bin/chromium), started as the machine notes say it must be here: no sandbox (root),
/// no GPU, no background networking (this machine's closed network refuses it), a fresh profile each run.
/// </summary>
public static class Chromium
{
    public const string Binary = "/usr/bin/chromium";

    /// <summary>The DOM after the page rendered, as Chromium serialises it.</summary>
    public static async Task<string> DumpDomAsync(string htmlFile) =>
        await RunAsync(["--dump-dom", new Uri(htmlFile).AbsoluteUri]);

    /// <summary>A PNG screenshot of the rendered page.</summary>
    public static async Task ScreenshotAsync(string htmlFile, string pngFile, int width = 1500, int height = 1100)
    {
        await RunAsync([$"--screenshot={pngFile}", $"--window-size={width},{height}", "--hide-scrollbars", new Uri(htmlFile).AbsoluteUri]);
        if (!File.Exists(pngFile))
            throw new InvalidOperationException($"chromium wrote no screenshot to {pngFile}");
    }

    private static async Task<string> RunAsync(IEnumerable<string> args)
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: install Debian's chromium package (./test.sh does)");
        var profile = ScratchDirectory.Create();
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", $"--user-data-dir={profile}" }.Concat(args))
            start.ArgumentList.Add(flag);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"chromium exited {process.ExitCode}: {(await errors).Split('\n').LastOrDefault(l => l.Length > 0)}");
        return await output;
    }
}
