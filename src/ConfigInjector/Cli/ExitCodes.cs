namespace ConfigInjector.Cli;

/// <summary>The CLI's exit codes, the same for every verb (DESIGN.md §7).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A check failed, or a pod or ref was denied.</summary>
    public const int Failed = 1;

    /// <summary>A usage or input error: one line on stderr.</summary>
    public const int Usage = 2;
}
