using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Templates;

namespace ConfigInjector.Core.Tests.Annotations;

/// <summary>The template annotations: what each asks for, and every mistake as one line that quotes the annotation.</summary>
public class TemplateAnnotationTests
{
    private static AnnotationParseResult Parse(params (string Key, string Value)[] annotations) =>
        AnnotationParser.Parse(annotations.Append(("configinjector.io/inject", "true")).ToDictionary(a => a.Item1, a => a.Item2));

    [Fact]
    public void Reads_template_env_file_template_and_formatted_file()
    {
        var result = Parse(
            ("configinjector.io/template.DATABASE_URL", "postgres://${dev:app/db#user}:${dev:app/db#password | urlencode}@db/app"),
            ("configinjector.io/file-template.config.json", "{\"pw\": ${dev:app/db#password | json}}"),
            ("configinjector.io/file-from.app.env", "dev:app/settings"),
            ("configinjector.io/file-format.app.env", "dotenv"));

        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        var composed = result.Request.Composed.ToDictionary(c => c.Name);
        var url = composed["DATABASE_URL"];
        Assert.Equal((ComposedKind.Env, "configinjector.io/template.DATABASE_URL"), (url.Kind, url.Annotation));
        Assert.Equal([new SecretReference("dev", "app/db", "user", null), new SecretReference("dev", "app/db", "password", null)], url.Refs);
        Assert.Equal(ComposedKind.File, composed["config.json"].Kind);
        var file = composed["app.env"];
        Assert.Equal((ComposedKind.File, FileFormat.Dotenv, new SecretReference("dev", "app/settings", null, null)), (file.Kind, file.Source.Format, file.From));
        Assert.Equal("configinjector.io/file-from.app.env", file.Annotation);
    }

    [Theory]
    [InlineData("configinjector.io/template.1URL", "${dev:app/db#user}",
        "configinjector.io/template.1URL: \"1URL\" is not a valid environment variable name (letters, digits and '_', not starting with a digit)")]
    [InlineData("configinjector.io/template.URL", "x${dev:app/db#user | upper}",
        "configinjector.io/template.URL: column 2: unknown filter 'upper'; expected one of urlencode, base64, json, trim")]
    [InlineData("configinjector.io/template.URL", "x${dev:app/db#user",
        "configinjector.io/template.URL: column 2: '${' is not closed by '}'")]
    [InlineData("configinjector.io/template.URL", "${app/db#user}",
        "configinjector.io/template.URL: column 1: no ':' after the backend name; expected <backend>:<path>[#<key>][@<version>]")]
    [InlineData("configinjector.io/template.URL", "constant",
        "configinjector.io/template.URL: the template has no ${<ref>} placeholder; a constant needs no template")]
    [InlineData("configinjector.io/file-template.a/b", "${dev:app/db#user}",
        "configinjector.io/file-template.a/b: \"a/b\" is not a valid file name (letters, digits, '.', '_' and '-')")]
    [InlineData("configinjector.io/file-template.x.json", "",
        "configinjector.io/file-template.x.json: the template is empty")]
    [InlineData("configinjector.io/file-from.app.env", "dev:app/settings",
        "configinjector.io/file-from.app.env: the file needs a format: add configinjector.io/file-format.app.env (json, yaml, dotenv, properties)")]
    [InlineData("configinjector.io/file-format.app.env", "dotenv",
        "configinjector.io/file-format.app.env: there is no configinjector.io/file-from.app.env to write in that format")]
    public void A_mistake_is_one_error_quoting_the_annotation(string key, string value, string error)
    {
        var result = Parse((key, value));

        Assert.Equal([error], result.Errors);
        Assert.Empty(result.Request.Composed);
    }

    [Fact]
    public void A_formatted_file_needs_a_known_format_and_a_path_without_key()
    {
        var result = Parse(
            ("configinjector.io/file-from.a.toml", "dev:app/settings"),
            ("configinjector.io/file-format.a.toml", "toml"),
            ("configinjector.io/file-from.b.env", "dev:app/settings#LOG_LEVEL"),
            ("configinjector.io/file-format.b.env", "dotenv"));

        Assert.Equal(
            ["configinjector.io/file-format.a.toml: unknown format 'toml'; expected one of json, yaml, dotenv, properties",
             "configinjector.io/file-from.b.env: \"dev:app/settings#LOG_LEVEL\": this annotation takes a path without '#<key>': every key of the path is used"],
            result.Errors);
    }

    [Fact]
    public void An_env_name_or_file_name_is_set_by_one_annotation_only()
    {
        var result = Parse(
            ("configinjector.io/secret.DATABASE_URL", "dev:app/db#password"),
            ("configinjector.io/template.DATABASE_URL", "${dev:app/db#user}"),
            ("configinjector.io/file.config.json", "dev:app/db#password"),
            ("configinjector.io/file-template.config.json", "${dev:app/db#user}"),
            ("configinjector.io/file-from.config.json", "dev:app/settings"),
            ("configinjector.io/file-format.config.json", "json"));

        Assert.Equal(
            ["configinjector.io/file.config.json: the file config.json is already written by configinjector.io/file-template.config.json",
             "configinjector.io/template.DATABASE_URL: DATABASE_URL is already set by configinjector.io/secret.DATABASE_URL",
             "configinjector.io/file-from.config.json: the file config.json is already written by configinjector.io/file-template.config.json"],
            result.Errors);
    }

    [Fact]
    public void A_misspelt_template_key_is_a_warning_naming_the_right_one()
    {
        var result = Parse(("configinjector.io/templates.DATABASE_URL", "${dev:app/db#user}"));

        Assert.Equal(["unknown annotation configinjector.io/templates.DATABASE_URL; did you mean configinjector.io/template.DATABASE_URL?"], result.Warnings);
    }
}
