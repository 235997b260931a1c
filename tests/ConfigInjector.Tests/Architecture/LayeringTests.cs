using System.Reflection;
using ConfigInjector.Core.References;
using Mono.Cecil;
using NetArchTest.Rules;

namespace ConfigInjector.Tests.Architecture;

/// <summary>
/// The shape of the code, as the README's "Repository layout" draws it, checked on the compiled assemblies
/// (NetArchTest reads every type's dependencies): the core stays pure, and in the executable every arrow points down
///
///   Cli → Hosting → Kubernetes → Report → Sync → Admission → Backends · Policies · ManagedSecrets → Configuration · Manifests · Observability · Tls → Core
///
/// (within a level, folders may use each other). Only the Kubernetes adapter and the composition root touch the
/// Kubernetes client; the sync worker reaches the cluster through its gateway (ISyncCluster), which the adapter
/// implements. A change that points an arrow up fails here, naming the types.
/// </summary>
public class LayeringTests
{
    private static readonly string[][] Levels =
    [
        ["Configuration", "Manifests", "Observability", "Tls"],
        ["Backends", "Policies", "ManagedSecrets"],
        ["Admission"],
        ["Sync"],
        ["Report"],
        ["Kubernetes"],
        ["Hosting"],
        ["Cli"],
    ];

    private static readonly Assembly App = typeof(ConfigInjector.Admission.AdmissionHandler).Assembly;
    private static readonly Assembly Core = typeof(SecretReference).Assembly;

    public static TheoryData<string> Folders => [.. Levels.SelectMany(l => l)];

    [Theory]
    [MemberData(nameof(Folders))]
    public void A_folder_uses_nothing_above_its_level(string folder)
    {
        var level = Array.FindIndex(Levels, l => l.Contains(folder));
        var above = Levels.Skip(level + 1).SelectMany(l => l).Select(f => $"ConfigInjector.{f}").ToArray();

        // A folder renamed or emptied would pass with nothing checked.
        Assert.NotEmpty(Types.InAssembly(App).That().ResideInNamespace($"ConfigInjector.{folder}").GetTypes());
        var result = Types.InAssembly(App).That().ResideInNamespace($"ConfigInjector.{folder}").ShouldNot().HaveDependencyOnAny(above).GetResult();

        Assert.True(result.IsSuccessful, $"{folder} uses a folder above it ({string.Join(", ", above)}): {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Only_the_kubernetes_adapter_and_the_composition_root_use_the_kubernetes_client()
    {
        var result = Types.InAssembly(App)
            .That().DoNotResideInNamespace("ConfigInjector.Kubernetes")
            .And().DoNotResideInNamespace("ConfigInjector.Hosting")
            .ShouldNot().HaveDependencyOnAny("k8s.IKubernetes", "k8s.Kubernetes", "k8s.KubernetesClientConfiguration", "k8s.Autorest.HttpOperationException", "k8s.Authentication.ServiceClientCredentials")
            .GetResult();

        Assert.True(result.IsSuccessful, "the Kubernetes client used outside its adapter: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void The_core_is_pure_no_io_no_clock_no_hosting_no_kubernetes_client()
    {
        // (System.Environment cannot be listed: every C# iterator calls Environment.CurrentManagedThreadId.)
        var result = Types.InAssembly(Core).ShouldNot().HaveDependencyOnAny(
                "System.IO.File", "System.IO.Directory", "System.IO.FileInfo", "System.IO.FileStream", "System.IO.StreamReader",
                "System.Net.Http", "System.Net.Sockets", "System.TimeProvider", "System.Threading.Timer", "System.DateTime",
                "Microsoft.Extensions.Logging", "Microsoft.AspNetCore", "Microsoft.Extensions.DependencyInjection",
                "k8s.IKubernetes", "k8s.Kubernetes", "k8s.KubernetesClientConfiguration", "YamlDotNet")
            .GetResult();

        Assert.True(result.IsSuccessful, "I/O in the core: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    /// <summary>
    /// Members that read the machine's clock. The core may hold a <see cref="DateTimeOffset"/> or call
    /// <see cref="Environment"/> (every iterator does), so types cannot be forbidden whole, and NetArchTest matches a
    /// name by whole segments ("System.DateTime" is not "System.DateTimeOffset"): the calls are read from the IL.
    /// </summary>
    private static readonly (string Type, string? Member)[] ClockMembers =
    [
        ("System.DateTime", "get_Now"), ("System.DateTime", "get_UtcNow"), ("System.DateTime", "get_Today"),
        ("System.DateTimeOffset", "get_Now"), ("System.DateTimeOffset", "get_UtcNow"),
        ("System.Environment", "get_TickCount"), ("System.Environment", "get_TickCount64"),
        ("System.Diagnostics.Stopwatch", null), ("System.TimeProvider", null),
        ("System.Threading.Tasks.Task", "Delay"), ("System.Threading.Thread", "Sleep"),
    ];

    [Fact]
    public void The_core_reads_no_clock_not_even_through_types_it_may_hold()
    {
        // The reader finds a clock read where there is one (below), so an empty answer for the core means something.
        Assert.Contains($"{typeof(LayeringTests).FullName}.{nameof(ReadsTheClock)} reads System.DateTimeOffset.get_UtcNow", ClockReads(typeof(LayeringTests).Assembly));

        var reads = ClockReads(Core);

        Assert.True(reads.Count == 0, "the core reads the clock (take the time as a parameter; the adapters have a TimeProvider): " + string.Join(", ", reads));
    }

    internal static long ReadsTheClock() => DateTimeOffset.UtcNow.Ticks;

    /// <summary>Every method body of <paramref name="assembly"/> (lambdas, iterators and local functions included) that calls one of <see cref="ClockMembers"/>.</summary>
    private static List<string> ClockReads(Assembly assembly)
    {
        using var module = ModuleDefinition.ReadModule(assembly.Location);
        return [.. module.GetTypes().SelectMany(t => t.Methods).Where(m => m.HasBody)
            .SelectMany(m => m.Body.Instructions.Select(i => i.Operand).OfType<MemberReference>()
                .Where(called => called.DeclaringType is { } type && ClockMembers.Any(c => c.Type == type.FullName && (c.Member is null || c.Member == called.Name)))
                .Select(called => $"{m.DeclaringType.FullName}.{m.Name} reads {called.DeclaringType.FullName}.{called.Name}"))
            .Distinct()];
    }
}
