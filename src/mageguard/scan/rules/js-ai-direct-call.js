define(['jquery'], function ($) {
    'use strict';

    var API_BASE = 'https://api.openai.com/v1';

    return function (config) {
        var ask = function (question) {
            // ruleid: js-ai-direct-call
            return fetch(API_BASE + '/chat/completions', {
                method: 'POST',
                headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + config.apiKey},
                body: JSON.stringify({model: 'gpt-4o-mini', messages: [{role: 'user', content: question}]})
            });
        };
        var ajax = function (question) {
            // ruleid: js-ai-direct-call
            return $.ajax({url: 'https://api.anthropic.com/v1/messages', type: 'POST', data: JSON.stringify({messages: [question]})});
        };
        var store = function (question) {
            // ok: js-ai-direct-call
            return fetch('/rest/V1/lumen-assistant/ask', {method: 'POST', body: JSON.stringify({q: question})});
        };
        return {ask: ask, ajax: ajax, store: store};
    };
});
