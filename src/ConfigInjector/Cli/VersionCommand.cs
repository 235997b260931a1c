using System.CommandLine;
using System.Text;
using System.Text.Json;
using ConfigInjector.Configuration;

namespace ConfigInjector.Cli;

/// <summary><c>configinjector version</c>: the version, the commit it was built from and the build settings.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output", "-o") { Description = "text or json", DefaultValueFactory = _ => "text" };
        var command = new Command("version", "The version, the commit it was built from, and how it was built.") { output };
        command.SetAction(async parse =>
        {
            var format = parse.GetValue(output)!;
            var fields = BuildInfo.Current.Fields;
            var text = format switch
            {
                "text" => string.Concat(fields.Select(f => $"{f.Name,-14} {f.Value}\n")),
                "json" => Json(fields),
                _ => throw new ConfigException($"--output \"{format}\": expected text or json"),
            };
            await parse.InvocationConfiguration.Output.WriteAsync(text);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Json(IReadOnlyList<(string Name, string Value)> fields)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (var (name, value) in fields)
                json.WriteString(name, value);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
