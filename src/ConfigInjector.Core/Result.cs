namespace ConfigInjector.Core;

/// <summary>A value or a one-line error: parsing mistakes are values, not exceptions.</summary>
public readonly record struct Result<T>(T? Value, string? Error)
{
    public bool IsOk => Error is null;
}

public static class Result
{
    public static Result<T> Ok<T>(T value) => new(value, null);

    public static Result<T> Fail<T>(string error) => new(default, error);
}
