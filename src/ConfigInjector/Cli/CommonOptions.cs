using System.CommandLine;

namespace ConfigInjector.Cli;

/// <summary>Options every verb takes.</summary>
internal sealed class CommonOptions
{
    public Option<string?> Config { get; } = new("--config") { Description = "backends config file (default config/injector.yaml when present, else the embedded default)" };

    public Option<string?> Policies { get; } = new("--policies") { Description = "folder of SecretPolicy YAML files (default examples/policies)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Policies);
    }
}
