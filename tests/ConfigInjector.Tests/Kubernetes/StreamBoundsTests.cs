using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConfigInjector.Backends.Vault;
using ConfigInjector.Core.Patching;
using ConfigInjector.Kubernetes;
using ConfigInjector.Sync;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>Issue 18's smaller findings on what the injector reads and writes: watch lines, patch depth, retry spread.</summary>
public class StreamBoundsTests
{
    [Fact]
    public async Task A_watch_line_that_never_ends_is_refused_at_its_bound_and_ordinary_lines_read_as_before()
    {
        var text = "first\r\nsecond\n" + new string('x', BoundedLineReader.MaxLineChars + 1);
        var reader = new BoundedLineReader(new StringReader(text), "secrets");

        Assert.Equal("first", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("second", await reader.ReadLineAsync(CancellationToken.None));
        var refused = await Assert.ThrowsAsync<ClusterApiException>(() => reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("Kubernetes API sent a secrets watch event over 4 MiB; refused", refused.Message);
    }

    [Fact]
    public async Task A_last_line_without_its_end_is_still_read()
    {
        var reader = new BoundedLineReader(new StringReader("only"), "secrets");

        Assert.Equal("only", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
    }

    [Fact]
    public void The_patch_writer_refuses_nesting_past_64_levels()
    {
        static JsonNode Nested(int depth) => depth == 0 ? JsonValue.Create("v") : new JsonArray(Nested(depth - 1));

        // The array of operations and each operation take two levels of their own.
        PatchSerializer.ToJsonBytes([new PatchOperation("add", "/a", Nested(PatchSerializer.MaxDepth - 3))]);
        Assert.Throws<InvalidOperationException>(() => PatchSerializer.ToJsonBytes([new PatchOperation("add", "/a", Nested(PatchSerializer.MaxDepth))]));
    }

    [Fact]
    public void Retries_after_a_429_are_spread_even_when_every_client_was_told_the_same_wait()
    {
        var random = new Random(7);
        var now = DateTimeOffset.UtcNow;
        var toldOneSecond = Enumerable.Range(0, 50).Select(_ => VaultTransport.RetryDelay(1, new RetryConditionHeaderValue(TimeSpan.FromSeconds(1)), TimeSpan.FromMilliseconds(100), now, random)).ToList();
        var capped = Enumerable.Range(0, 50).Select(_ => VaultTransport.RetryDelay(10, null, TimeSpan.FromMilliseconds(100), now, random)).ToList();

        Assert.All(toldOneSecond, d => Assert.InRange(d, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.25)));
        Assert.True(toldOneSecond.Distinct().Count() > 40, string.Join(", ", toldOneSecond.Select(d => d.TotalMilliseconds.ToString(CultureInfo.InvariantCulture))));
        Assert.True(capped.Distinct().Count() > 40, "retries past the cap all come back at one instant");
    }
}
