<?php
declare(strict_types=1);

namespace Fixture\DbSchemaPromptStorage\Model;

/** Talks to https://api.openai.com/v1/responses and keeps a copy of each exchange. */
class Client
{
}
