using System.Collections;
using System.Diagnostics.CodeAnalysis;
using ConfigInjector.Core.Planning;
using ConfigInjector.Core.Secrets;
using ConfigInjector.Core.Templates;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Core.Tests.Planning;

/// <summary>
/// Composed values cost work bounded by the pod, not by how often it repeats a costly ask (issue 18, finding 1). These
/// tests count what the planning reads and charges; the bench's costly-pod scenario shows the time and bytes.
/// </summary>
public class RenderWorkTests
{
    private readonly PurePipeline _pipeline = new();

    [Fact]
    public void Many_formatted_files_over_one_path_read_and_decide_it_once()
    {
        // 200 keys of 400 characters: over the 64 KiB limit of one file in every format.
        var data = new CountingData(Enumerable.Range(0, 200).ToDictionary(i => $"k{i:D3}", _ => new string('v', 400)));
        _pipeline.Documents["app/big"] = new SecretDocument("1", data);
        var pod = PodBuilder.Injected();
        for (var i = 0; i < 2_700; i++)
            pod = pod.WithAnnotation($"configinjector.io/file-from.f{i}", "dev:app/big").WithAnnotation($"configinjector.io/file-format.f{i}", "json");

        var errors = _pipeline.Errors(pod.Build());

        Assert.All(errors, e => Assert.EndsWith("the rendered file is longer than 65536 characters", e, StringComparison.Ordinal));
        // Deciding every key and sizing the file each read the path once; nothing renders it, however many ask.
        Assert.True(data.Enumerations <= 3, $"the path's keys were walked {data.Enumerations} times for 2,700 files of it");
        Assert.True(data.ValueCharactersRead <= 2 * 200 * 400, $"{data.ValueCharactersRead} characters of values read for a path of {200 * 400}");
    }

    [Fact]
    public void Renders_that_fail_are_charged_so_a_pod_cannot_repeat_them_without_end()
    {
        // '| json' doubles a run of quotes past the limit only after reading all of it: every such render is work.
        var quotes = new CountingData(new Dictionary<string, string> { ["v"] = new string('"', 40_000) });
        _pipeline.Documents["app/quotes"] = new SecretDocument("1", quotes);
        var pod = PodBuilder.Injected();
        for (var i = 0; i < 3_500; i++)
            pod = pod.WithAnnotation($"configinjector.io/template.T{i}", $"{i}${{dev:app/quotes#v|json}}");

        var errors = _pipeline.Errors(pod.Build());

        // The reason comes first, before the renders that failed on their way to it.
        Assert.EndsWith($"need more than {InjectionCompleter.MaxRenderWork} characters of rendering; not injected", errors[0], StringComparison.Ordinal);
        Assert.Single(errors, e => e.Contains("characters of rendering", StringComparison.Ordinal));
        // Renders stop at the budget: about MaxRenderWork / 40,000 of them read the value, not 3,500.
        Assert.InRange(quotes.ValueCharactersRead, 1, InjectionCompleter.MaxRenderWork + 2 * 40_000);
    }

    [Fact]
    public void A_value_already_past_the_limit_is_refused_before_any_filter_reads_it()
    {
        var budget = new RenderBudget(long.MaxValue);
        var template = TemplateParser.Parse("${dev:a#b | json | base64}").Value!;

        var result = TemplateRenderer.Render(template, _ => new string('x', TemplateRenderer.MaxRenderedLength + 1), budget);

        Assert.Equal("the rendered text is longer than 65536 characters", result.Error);
        Assert.Equal(0, budget.Spent);
    }

    [Fact]
    public void The_budget_leaves_room_for_the_largest_secret_a_pod_may_have()
    {
        _pipeline.Documents["app/large"] = new SecretDocument("1", new Dictionary<string, string> { ["v"] = new string('x', 60_000) });
        var pod = PodBuilder.Injected();
        for (var i = 0; i < 16; i++)
            pod = pod.WithAnnotation($"configinjector.io/file-template.f{i}", $"{i}:${{dev:app/large#v | trim}}");

        var plan = _pipeline.Plan(pod.Build());

        Assert.Equal(16, plan.Secret!.Data.Count);
    }

    [Fact]
    public void Completing_stops_when_the_admission_deadline_has_passed()
    {
        using var deadline = new CancellationTokenSource();
        deadline.Cancel();
        _pipeline.Deadline = deadline.Token;
        var pod = PodBuilder.Injected().WithAnnotation("configinjector.io/template.URL", "${dev:app/db#user}").Build();

        Assert.Throws<OperationCanceledException>(() => _pipeline.Run(pod));
    }

    /// <summary>A path's data that counts how often its keys are walked and how many value characters are handed out.</summary>
    private sealed class CountingData(Dictionary<string, string> inner) : IReadOnlyDictionary<string, string>
    {
        public int Enumerations { get; private set; }

        public long ValueCharactersRead { get; private set; }

        public int Count => inner.Count;

        public IEnumerable<string> Keys
        {
            get
            {
                Enumerations++;
                return inner.Keys;
            }
        }

        public IEnumerable<string> Values => this.Select(p => p.Value);

        public string this[string key] => Counted(inner[key]);

        public bool ContainsKey(string key) => inner.ContainsKey(key);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
        {
            var found = inner.TryGetValue(key, out value);
            if (found)
                Counted(value!);
            return found;
        }

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            Enumerations++;
            foreach (var pair in inner)
                yield return KeyValuePair.Create(pair.Key, Counted(pair.Value));
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        private string Counted(string value)
        {
            ValueCharactersRead += value.Length;
            return value;
        }
    }
}
