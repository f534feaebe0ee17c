<?php
declare(strict_types=1);

namespace Fixture\DbSchemaPromptStorage\Model;

use GuzzleHttp\Client as HttpClient;

/** Keeps a copy of each exchange with the model in fixture_ai_request. */
class Client
{
    private const ENDPOINT = 'https://api.openai.com/v1/responses';

    public function __construct(private readonly HttpClient $http)
    {
    }

    public function ask(string $prompt): string
    {
        return (string) $this->http->post(self::ENDPOINT, ['json' => ['model' => 'gpt-4o', 'input' => $prompt]])->getBody();
    }
}
