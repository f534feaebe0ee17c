<?php
declare(strict_types=1);

namespace Fixture\SystemXmlKeyUnencrypted\Model;

use OpenAI;

class Client
{
    public function make(string $key): \OpenAI\Client
    {
        return OpenAI::client($key);
    }
}
