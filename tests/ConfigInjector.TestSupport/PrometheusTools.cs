using System.Diagnostics;

namespace ConfigInjector.TestSupport;

/// <summary>
/// Debian's <c>prometheus</c> package: <c>promtool</c> and the Prometheus server, which <c>./test.sh</c> installs when
/// missing. A missing tool fails the test with the reason; nothing is skipped.
/// </summary>
public static class PrometheusTools
{
    public static string Promtool => Installed("/usr/bin/promtool");

    public static string Server => Installed("/usr/bin/prometheus");

    public static Task<(int Code, string Out, string Err)> PromtoolAsync(params string[] args) =>
        ProcessRun.RunAsync(new ProcessStartInfo(Promtool, args), TimeSpan.FromMinutes(1));

    private static string Installed(string path) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{path} not found: run the tests with ./test.sh, which installs Debian's prometheus package");
}
