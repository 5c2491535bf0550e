// Prompt injection: text that tries to turn data into instructions for the model or the governor
// that reads it. Two judges, either of which makes a finding: the classifier the project ships
// (classifier.ts, trained from labeled public samples), and weighted signals summed to a score that
// is a finding at 1.
// Strong signals (overriding earlier instructions, leaking the prompt, asking the governor to
// approve or to skip its policy, chat-template markers) reach it alone; weaker ones (role play,
// praise followed by a new task, shouting commands, fake context blocks) need company. Several
// languages are covered where the phrasing is common (English, German, Spanish, French, Italian,
// Portuguese, Dutch, Polish, Croatian, Russian, Chinese, Japanese, Korean).
import { classify, shippedModel } from './classifier.js';
import type { Hit } from './types.js';

interface Signal {
  /** The pattern, compiled on first use: most signals' hints never occur, and compiling all of them costs a cold process ~10 ms. */
  re: () => RegExp;
  weight: number;
  /** Lower-case substrings of which at least one occurs in any match: a cheap gate. */
  hints: string[];
}

// Unicode-aware word boundaries (JavaScript's \b only knows ASCII letters).
const S = '(?<![\\p{L}\\p{N}_])';
const E = '(?![\\p{L}\\p{N}_])';
const NOT_NEGATED = "(?<!(?:not|never|don't|dont|do not|shouldn't|must not|nicht|nie)\\s{1,3})";
const W = (src: string, flags = 'giu'): (() => RegExp) => {
  let re: RegExp | undefined;
  return () => (re ??= new RegExp(src.replace(/\\b</g, S).replace(/\\b>/g, E), flags));
};

const TARGETS = 'instructions?|prompts?|directions?|directives?|orders?|commands?|rules?|guidelines?|guidance|polic(?:y|ies)|tasks?|assignments?|context|information|constraints?|restrictions?|programming|training|messages?|documents?|articles?|safeguards?|guardrails?|filters?|limitations?|settings?|conversation|requests?|input|text|thoughts?|everything|all|anything';
const QUALIFIERS = 'previous|prior|above|preceding|earlier|former|foregoing|initial|original|old|all|any|every|your|the|these|those|my|system|provided|given';

const SIGNALS: Signal[] = [
  // --- Overriding earlier instructions --------------------------------------------------------
  { weight: 1, hints: ['ignor', 'disregard', 'forget', 'skip', 'overrid', 'overlook', 'bypass', 'neglect', 'discard'],
    re: W(`${NOT_NEGATED}\\b<(?:ignore|ignoring|disregard|disregarding|forget|forgetting|skip|override|overlook|bypass|neglect|discard)\\b>[^.!?\\n]{0,40}?\\b<(?:${QUALIFIERS})\\b>[^.!?\\n]{0,30}?\\b<(?:${TARGETS})\\b>`) },
  { weight: 1, hints: ['ignor', 'disregard', 'forget'],
    re: W(`${NOT_NEGATED}\\b<(?:ignore|disregard|forget)\\b>\\s+(?:about\\s+)?(?:everything|all|anything|that|this|above|what\\s+(?:i|you|we))\\b>`) },
  { weight: 1, hints: ['drop', 'abandon', 'leave', 'remove', 'erase', 'clear', 'delete', 'scrap', 'aside', 'throw'],
    re: W(`\\b<(?:drop|abandon|leave|remove|erase|clear|delete|scrap|throw\\s+away|put\\s+aside|set\\s+aside)\\b>[^.!?\\n]{0,30}?\\b<(?:all|any|every|your|the|previous|prior)\\b>[^.!?\\n]{0,30}?\\b<(?:instructions?|prompts?|tasks?|assignments?|thoughts?|rules?|guidelines?|directives?|programming|previous\\s+information|prior\\s+information)\\b>`) },
  { weight: 1, hints: ['irrelevant', 'invalid', 'void', 'obsolete', 'no longer'],
    re: W(`\\b<(?:previous|prior|above|earlier|all)\\s+(?:information|instructions|rules|context)\\b>[^.!?]{0,60}\\b<(?:irrelevant|invalid|void|obsolete|no\\s+longer\\s+(?:valid|apply|applies))\\b>`) },
  { weight: 1, hints: ['despite', 'regardless', 'contrary', 'instead of'],
    re: W(`\\b<(?:despite\\s+what\\s+you(?:'ve|\\s+have)\\s+been\\s+(?:told|instructed)|regardless\\s+of\\s+(?:your|the|any|all)\\s+(?:previous\\s+|prior\\s+)?(?:instructions|rules|guidelines|polic(?:y|ies))|contrary\\s+to\\s+(?:your|the)\\s+(?:instructions|rules)|instead\\s+of\\s+(?:following|obeying)\\s+(?:your|the)\\s+(?:instructions|rules))\\b>`) },
  // German
  { weight: 1, hints: ['vergiss', 'vergessen', 'vergesst', 'ignorier', 'missacht', 'überspring', 'verwirf'],
    re: W(`${NOT_NEGATED}\\b<(?:vergiss|vergessen\\s+sie|vergesst|ignoriere|ignorieren\\s+sie|ignoriert|ignorier|missachte|missachten\\s+sie|überspring\\p{L}*|verwirf)\\b>[^.!?\\n]{0,40}?\\b<(?:alle[nrs]?|alles|sämtliche[nrs]?|deine[nrs]?|ihre[nrs]?|eure[nrs]?|vorherige[nrs]?|bisherige[nrs]?|obige[nrs]?|vorangehende[nrs]?|vorangegangene[nrs]?|vorigen|gesagte[ns]?|anweisungen|aufgaben|befehle|instruktionen)\\b>`) },
  { weight: 1, hints: ['ignorieren', 'vergessen', 'missachten'],
    re: W(`\\b<(?:obigen|vorherigen|bisherigen|vorangehenden|vorigen|alle)\\s+(?:Anweisungen|Ausführungen|Aufgaben|Befehle|Informationen|Instruktionen|Angaben|Regeln|Vorgaben)\\s+(?:\\p{L}+\\s+){0,2}(?:ignorieren|vergessen|missachten)\\b>`) },
  { weight: 1, hints: ['kopf', 'hinter', 'abweichend', 'irrelevant', 'unwichtig', 'ungültig'],
    re: W(`\\b<(?:aus\\s+dem\\s+Kopf\\s+(?:zu\\s+)?streichen|(?:lass|lasst|lassen\\s+sie)\\s+(?:alle|die)\\s+(?:vorherigen|bisherigen|obigen)\\s+\\p{L}+\\s+hinter\\s+(?:dir|sich|euch)|abweichend\\s+(?:zu|von)\\s+(?:den\\s+)?(?:vorherigen|bisherigen|obigen)\\s+(?:instruktionen|anweisungen|vorgaben)|(?:bisherigen|vorherigen|obigen)\\s+(?:Informationen|Anweisungen)[^.!?]{0,60}\\b<(?:irrelevant|unwichtig|ungültig|egal))\\b>`) },
  // Other languages
  { weight: 1, hints: ['olvid', 'ignor', 'descart'],
    re: W(`\\b<(?:olvida|olvide|olvidad|olvidar|ignora|ignore|ignorad|ignorar|descarta)\\b>[^.!?\\n]{0,30}?\\b<(?:todo|todas\\s+las\\s+instrucciones|las\\s+instrucciones|tus\\s+instrucciones|lo\\s+anterior)\\b>`) },
  { weight: 1, hints: ['oubli', 'ignor'],
    re: W(`\\b<(?:oubliez|oublie|oublier|ignorez|ignore|ignorer)\\b>[^.!?\\n]{0,30}?\\b<(?:toutes\\s+les\\s+instructions|les\\s+instructions|vos\\s+instructions|tes\\s+instructions|tout\\s+ce\\s+qui\\s+précède|tout)\\b>`) },
  { weight: 1, hints: ['dimentic', 'ignora', 'esque', 'ignore', 'vergeet', 'negeer', 'zapomnij', 'zignoruj', 'ignoruj', 'zaboravi', 'ignorir', 'ignoriš', 'ignorisi'],
    re: W(`\\b<(?:dimentica|dimenticate|ignora|ignorate|esqueça|esqueca|esquece|vergeet|negeer|zapomnij|zignoruj|ignoruj|zaboravi|zaboravite|ignoriraj|ignoriši|ignorisi)\\b>[^.!?\\n]{0,30}?\\b<(?:tutte\\s+le\\s+istruzioni|le\\s+istruzioni|tutto|todas\\s+as\\s+instruções|as\\s+instruções|tudo|alle\\s+instructies|alles|wszystkie\\s+instrukcje|wszystko|sve\\s+instrukcije|sve\\s+upute|sve|instrukcije|upute)\\b>`) },
  { weight: 1, hints: ['забуд', 'игнориру', 'проигнориру'],
    re: W(`(?:забудь(?:те)?|игнорируй(?:те)?|проигнорируй(?:те)?)[^.!?\\n]{0,30}?(?:все|всё|инструкции|указания)`) },
  { weight: 1, hints: ['忽略', '忘记', '无视', '忽視', '無視', '忘れ', '무시', '잊어'],
    re: W(`(?:忽略|忘记|无视|忽視|無視|忘れ)[^。！？\\n]{0,20}(?:指示|指令|说明|提示|命令|設定)|(?:이전|모든)\\s*(?:지시|명령|지침)[^.!?\\n]{0,20}(?:무시|잊어)`) },

  // --- A new task replacing the old one ---------------------------------------------------------
  { weight: 1, hints: ['focus', 'concentrate'], re: W(`\\b<(?:focus|concentrate)\\s+on\\s+(?:your|the|a)\\s+new\\s+task\\b>`) },
  { weight: 1, hints: ['follow'], re: W(`\\b<(?:new|further|additional|more)\\s+(?:tasks?|instructions?|orders?)\\s+(?:are\\s+|will\\s+)?(?:follow|follows|followed|following)\\b>`) },
  { weight: 1, hints: ['new task'], re: W(`\\b<(?:start|begin)\\s+(?:over\\s+|again\\s+)?with\\s+a\\s+new\\s+task\\b>`) },
  { weight: 1, hints: ['instructions', 'task is now', 'role is now', 'job is now', 'change your'], re: W(`\\b<(?:your\\s+(?:new\\s+)?(?:instructions|task|role|job)\\s+(?:are|is)\\s+now|change\\s+your\\s+(?:instructions|rules|programming|role)|your\\s+new\\s+instructions\\s+are)\\b>`) },
  { weight: 0.6, hints: ['front', 'scratch'], re: W(`\\b<start\\s+(?:over\\s+)?from\\s+(?:the\\s+)?(?:front|scratch)\\b>`) },
  { weight: 0.5, hints: ['from now', 'henceforth', 'von nun an', 'ab jetzt', 'ab sofort'], re: W(`\\b<(?:from\\s+now\\s+on|from\\s+now\\s+known\\s+as|henceforth|von\\s+nun\\s+an|ab\\s+jetzt|ab\\s+sofort)\\b>`) },
  { weight: 0.6, hints: ['instruction'], re: W(`(?:^|\\\\n|\\n|[.!?]\\s)\\s*(?:new\\s+)?instructions?\\s*:`) },
  { weight: 1, hints: ['folgen'], re: W(`\\b<(?:nun|jetzt|es)\\s+folgen\\s+(?:neue|weitere)\\s+(?:Aufgaben|Anweisungen|Instruktionen|Befehle)\\b>`) },
  { weight: 1, hints: ['konzentrier'], re: W(`\\b<konzentrier\\p{L}*\\s+(?:dich|sie\\s+sich|euch)\\s+(?:jetzt\\s+|nun\\s+)?auf\\s+(?:deine|die|ihre|eure)\\s+neue\\s+Aufgabe\\b>`) },
  { weight: 1, hints: ['neuen aufgabe'], re: W(`\\b<(?:starten|beginnen)\\s+(?:von\\s+neu\\s+|neu\\s+|von\\s+vorne\\s+)?mit\\s+einer\\s+neuen\\s+Aufgabe\\b>`) },
  { weight: 0.6, hints: ['vorne an'], re: W(`\\b<fangen\\s+(?:sie|wir)\\s+von\\s+vorne\\s+an\\b>`) },
  { weight: 0.5, hints: ['neue aufgabe', 'neue anweisung'], re: W(`\\b<neue\\s+(?:Aufgabe|Anweisungen?)\\b>`) },

  // --- Leaking the prompt -----------------------------------------------------------------------
  { weight: 1, hints: ['prompt', 'instructions', 'rules', 'guidelines', 'directives'],
    re: W(`\\b<(?:show|showing|print|reveal|display|output|repeat|tell|give|write|list|spell\\s+out|dump|paste)\\b>\\s+(?:me\\s+|us\\s+)?(?:(?:all|the|your|of|complete|full|entire|initial|original|system|hidden|secret|previous|exact)\\s+){0,4}(?:prompts?|instructions|system\\s+prompt|prompt\\s+texts?|rules\\s+you\\s+(?:were\\s+)?given|guidelines|directives)\\b>`) },
  { weight: 1, hints: ['written', 'instructions', 'copy of'],
    re: W(`\\b<(?:what\\s+(?:was|is|were)\\s+written\\s+(?:above|before|at\\s+the\\s+(?:beginning|start))|what\\s+(?:are|were)\\s+your\\s+(?:instructions|rules|guidelines|directives)|copy\\s+of\\s+the\\s+(?:full\\s+|entire\\s+)?prompt)\\b>`) },
  { weight: 1, hints: ['before the text', 'before this text'], re: W(`\\b<(?:sentences?|words?|lines?|text)\\s+before\\s+(?:the|this)\\s+text\\b>`) },
  { weight: 1, hints: ['information in the prompt'], re: W(`\\b<use\\s+(?:also\\s+)?(?:the\\s+)?information\\s+in\\s+the\\s+prompt\\b>`) },
  { weight: 1, hints: ['prompt'], re: W(`\\b<(?:zeige?|zeigen\\s+sie|vorzeigen|ausgeben)\\b>[^.!?\\n]{0,40}?Prompt-?Texte?`) },
  { weight: 0.6, hints: ['prompt-text', 'prompttext'], re: W(`\\b<Prompt-?Texte?\\b>`) },
  { weight: 0.8, hints: ['anfang'], re: W(`\\b<was\\s+(?:steht|stand)\\s+(?:ganz\\s+)?am\\s+Anfang\\b>`) },
  { weight: 0.5, hints: ['prompt'], re: W(`\\b<(?:system|initial|original|hidden|secret)\\s+prompt\\b>`) },

  // --- Role play and persona hijacking ----------------------------------------------------------
  { weight: 0.8, hints: ['you are now', "you're now", 'now you are', 'you will now', 'as if you', 'from now on, you', 'from now on you'],
    re: W(`\\b<(?:you\\s+are\\s+now(?!\\s+(?:able|ready|done|set|all|good|logged|connected|in|on|at|the\\s+owner))|you're\\s+now(?!\\s+(?:able|ready|done|set|all|good|logged|connected|in|on|at))|now\\s+you\\s+are(?!\\s+(?:able|ready|done|set|all|good|logged|connected|in|on|at))|from\\s+now\\s+on,?\\s+you\\s+are|you\\s+will\\s+now\\s+(?:act|be|play)|act\\s+as\\s+if\\s+you\\s+(?:were|are))\\b>`) },
  { weight: 0.8, hints: ['pretend', 'imagine', 'suppose'], re: W(`\\b<(?:pretend|imagine|suppose)\\s+(?:that\\s+)?(?:you\\s+(?:are|were|can|could|have|had)|to\\s+be)\\b>`) },
  { weight: 0.8, hints: ['act as'], re: W(`\\b<I\\s+(?:want|would\\s+like|need)\\s+you\\s+to\\s+act\\s+as\\b>`) },
  { weight: 0.7, hints: ['act as'], re: W(`(?<!you\\s+to\\s+)\\b<act\\s+as\\s+(?:a|an|the|my|two|three)?\\s*\\p{L}+`) },
  { weight: 1, hints: ['role', 'character', 'figure'],
    re: W(`\\b<(?:(?:stay|stays|remain|remains)\\s+(?:fully\\s+|always\\s+|completely\\s+)?in\\s+(?:their|your|his|her|the)\\s+(?:roles?|characters?)|(?:do\\s+not|don't|never)\\s+break\\s+character|(?:falling|fall)\\s+out\\s+of\\s+(?:the\\s+)?(?:figure|role|character))\\b>`) },
  { weight: 0.8, hints: ['absorbed'], re: W(`\\b<absorbed\\s+in\\s+(?:your|the|his|her)\\s+role\\b>`) },
  { weight: 0.8, hints: ['bist du', 'du bist'], re: W(`\\b<(?:(?:jetzt|nun)\\s+bist\\s+du|du\\s+bist\\s+(?:jetzt|nun|ab\\s+jetzt))\\b>`) },
  { weight: 0.8, hints: ['stell dir vor', 'stellen sie sich vor'], re: W(`\\b<(?:stell\\s+dir\\s+vor|stellen\\s+sie\\s+sich\\s+vor),?\\s+(?:du|sie)\\s+(?:bist|wärst|wären|sind|kannst|könntest)\\b>`) },
  { weight: 0.8, hints: ['fungier', 'agier'], re: W(`\\b<(?:ich\\s+möchte|ich\\s+will),?\\s+dass\\s+(?:sie|du)\\s+als\\s+[^.!?]{1,60}?\\s+(?:fungieren|fungierst|agieren|agierst|handeln|auftreten)\\b>`) },
  { weight: 1, hints: ['rolle', 'figur'], re: W(`\\b<(?:(?:bleiben|bleibt|bleib)\\s+(?:immer\\s+|voll\\s+|stets\\s+)?in\\s+(?:ihren|ihrer|seiner|deiner|der)\\s+Rollen?|aus\\s+(?:der|ihrer|seiner|deiner)\\s+(?:Figur|Rolle)\\s+(?:zu\\s+)?fallen)\\b>`) },
  { weight: 0.6, hints: ['deiner rolle'], re: W(`\\b<in\\s+deiner\\s+Rolle\\b>`) },
  { weight: 0.8, hints: ['jailbr', 'developer mode', 'god mode', 'restriction', 'filter', 'guideline', 'censor', 'immoral', 'amoral', 'evil', 'böse', 'forked', 'limit', 'warning', 'no rules'],
    re: W(`\\b<(?:jailbreak|jailbroken|developer\\s+mode|god\\s+mode|no\\s+(?:programming\\s+)?(?:guidelines|restrictions|filters|limits|rules|censorship)|without\\s+(?:any\\s+)?(?:restrictions|filters|limitations|censorship|warnings?)|unfiltered|uncensored|immoral|amoral|evil\\s+(?:AI|bot|assistant|KI)|böse\\s+KI|forked\\s+version\\s+of)\\b>`) },
  { weight: 0.8, hints: ['dan'], re: W(`\\b<DAN\\b>`, 'gu') },
  { weight: 0.8, hints: ['after me'], re: W(`\\b<(?:repeat|say)\\s+after\\s+me\\b>`) },
  { weight: 0.5, hints: ['you are', 'du bist'], re: W(`(?:^|[.!?]\\s+)(?:you\\s+are|du\\s+bist)\\s+(?!(?:a|an)\\s+(?:student|beginner)\\b)[^.!?,\\n]{2,60}[.,]`) },
  { weight: 0.5, hints: ['as the', 'as a', 'as an'], re: W(`(?:^|[.!?]\\s+)as\\s+(?:the|a|an)\\s+[\\p{L} ]{1,30},\\s+(?:tell|write|answer|say|give|explain)\\b>`) },
  { weight: 0.5, hints: ['theoretical', 'hypothetical', 'fictional'], re: W(`\\b<(?:completely\\s+)?(?:theoretical|hypothetical|fictional)\\s+(?:world|scenario|situation|story)\\b>`) },
  { weight: 0.6, hints: ['hate speech'], re: W(`\\b<(?:use|say|write|produce)\\s+hate\\s+speech\\b>`) },

  // --- Forcing the output -----------------------------------------------------------------------
  { weight: 0.7, hints: ['just', 'only', 'simply'], re: W(`\\b<(?:just|only|simply)\\s+(?:say|output|print|write|answer|respond|reply|return)\\b>`) },
  { weight: 0.6, hints: ['say', 'output', 'print', 'write', 'respond', 'answer', 'reply'], re: W(`\\b<(?:say|output|print|write|respond\\s+with|answer\\s+with|reply\\s+with)\\b>(?:\\s+[\\p{L}]+){0,3}\\s*:?\\s*["“'‘]`) },
  { weight: 1, hints: ['do not', "don't", 'dont'], re: W(`\\b<(?:DO\\s+NOT|DON'?T)\\s+(?:ANSWER|LOOK|RESPOND|REPLY|READ|USE|SEARCH|FOLLOW)\\b>`, 'gu') },
  { weight: 1, hints: ['command you'], re: W(`\\b<I\\s+command\\s+you\\b>`) },
  { weight: 1, hints: ['hate', 'love', 'despise'], re: W(`\\b<(?:tell\\s+me|say|state|include|write|admit|answer)\\s+(?:that\\s+)?you\\s+(?:hate|love|despise)\\b>`) },
  { weight: 1, hints: ['say yes', 'say no'], re: W(`\\b<say\\s+(?:yes|no)\\b>\\s*[.!]?\\s*$`) },
  { weight: 1, hints: ['stirbst', 'you die', 'will die'], re: W(`\\b<(?:oder\\s+du\\s+stirbst|or\\s+(?:else\\s+)?you\\s+(?:will\\s+)?die)\\b>`) },
  { weight: 0.6, hints: ['make something up', 'make it up', 'make stuff up'], re: W(`\\b<make\\s+(?:something|it|stuff)\\s+up\\b>`) },
  { weight: 0.4, hints: ['trained'], re: W(`\\b<when\\s+were\\s+you\\s+trained\\b>`) },
  { weight: 1, hints: ['own knowledge', 'according to'],
    re: W(`\\b<(?:(?:answer|respond)\\s+(?:by|from|with|using)\\s+your\\s+own\\s+knowledge\\s+and\\s+not\\s+(?:by|from)\\s+the\\s+(?:articles|documents|context|sources)|(?:don'?n?'?t|do\\s+not)\\s+answer\\s+(?:the\\s+question\\s+)?according\\s+to\\s+the\\s+(?:provided\\s+)?(?:documents|articles|context))\\b>`) },
  { weight: 0.8, hints: ['not by the', 'not from the', 'not according'], re: W(`\\b<not\\s+(?:by|from|according\\s+to)\\s+the\\s+(?:provided\\s+)?(?:articles|documents|context|sources)\\b>`) },
  { weight: 0.6, hints: ['antworte', 'in the style', 'im stil'], re: W(`\\b<(?:antworte\\s+im\\s+stil|(?:answer|respond|reply)\\s+[^.!?]{0,40}in\\s+the\\s+style\\s+of)\\b>`) },
  { weight: 0.4, hints: ['write', 'say', 'print', 'output'], re: W(`\\b<(?:write|say|print|output)\\s*:\\s*\\S`) },
  { weight: 0.5, hints: ['execute the following', 'run the following'], re: W(`\\b<(?:execute|run)\\s+the\\s+following\\s+(?:command|code|instruction)\\b>`) },
  { weight: 0.4, hints: ['any question'], re: W(`\\b<(?:answer|respond\\s+to)\\s+any\\s+question\\b>`) },
  { weight: 0.6, hints: ['untrue', 'unwahr', 'false headline', 'fake headline'], re: W(`\\b<(?:untrue|unwahre?|false|fake)\\s+(?:headline|Überschrift|news|statement)\\b>`) },
  { weight: 0.4, hints: ['following text', 'folgenden text'], re: W(`\\b<(?:for|für)\\s+(?:the|die)\\s+(?:following|folgenden)\\s+(?:texts?|Texte)\\b>`) },

  { weight: 0.3, hints: ['following question', 'folgende frage'], re: W(`\\b<(?:answer|beantworte\\p{L}*)\\s+(?:du\\s+)?(?:the\\s+|die\\s+)?(?:following|folgende)\\s+(?:question|Frage)\\b>`) },
  { weight: 1, hints: ['instruction'], re: W(`\\b<(?:additional|new|further|extra|updated|secret|hidden|real)\\s+instructions?\\s*[-:–]`) },
  { weight: 1, hints: ['role-play', 'roleplay', 'role play'], re: W(`\\b<role[-\\s]?play(?:ing)?\\s+as\\b>`) },
  { weight: 1, hints: ['stop'], re: W(`\\b<(?:stop|stopp)\\s*[-–:!,]+\\s*(?:now\\s+)?(?:write|say|print|output|ignore|forget|answer|schreib\\p{L}*|sag\\p{L}*)\\b>`) },
  { weight: 0.4, hints: ['\\n'], re: W(`(?:\\\\n\\s*){2,3}`) },
  // --- Praise, then a new task ------------------------------------------------------------------
  { weight: 0.8, hints: ['well done', 'very good', 'good job', 'great', 'excellent', 'fantastic', 'wonderful', 'congratulation', 'outdone', 'that was ok', 'did it'],
    re: W(`\\b<(?:well\\s+done|very\\s+(?:well\\s+)?(?:done|good)|great\\s+job|good\\s+job|excellent(?:\\s+performance)?|fantastic|wonderful|congratulations|simply\\s+great|you\\s+did\\s+it\\s+(?:really\\s+)?(?:great|well)|that\\s+was\\s+ok(?:ay)?(?:\\s+before)?)\\b>[^\\n]{0,100}?(?:[.!?,]\\s*)(?:[^.!?\\n]{0,80}[.!?]\\s*)?(?:but\\s+|and\\s+)?(?:now|that\\s+is\\s+(?:enough|done)|next)\\b>`) },
  { weight: 0.8, hints: ['enough', 'done'], re: W(`\\b<that\\s+is\\s+(?:enough|done)\\s*[.!]\\s*(?:\\p{L}+\\s+){0,3}now\\b>`) },
  { weight: 0.8, hints: ['sehr gut', 'gut gemacht', 'leistung', 'glückwunsch', 'großartig', 'super gemacht', 'toll gemacht', 'fantastisch', 'wow'],
    re: W(`\\b<(?:sehr\\s+gut(?:\\s+gemacht)?|gut\\s+gemacht|ausgezeichnete\\s+leistung|herzlichen\\s+glückwunsch|einfach\\s+großartig|(?:echt\\s+)?super\\s+gemacht|toll\\s+gemacht|das\\s+ist\\s+fantastisch)\\b>[^\\n]{0,100}?(?:[.!?,]\\s*)(?:[^.!?\\n]{0,80}[.!?]\\s*)?(?:aber\\s+)?(?:nun|jetzt|das\\s+(?:genügt|ist\\s+erledigt|reicht))\\b>`) },
  { weight: 0.8, hints: ['genügt', 'reicht', 'erledigt'], re: W(`\\b<das\\s+(?:genügt|reicht|ist\\s+erledigt)\\s*[.!]\\s*(?:\\p{L}+\\s+){0,4}(?:nun|jetzt)\\b>`) },
  { weight: 0.8, hints: ['challenge', 'herausforderung'], re: W(`\\b<(?:now|nun|jetzt)\\s+(?:I\\s+have|habe\\s+ich)\\s+(?:a|eine)\\s+(?:great\\s+|tolle\\s+)?(?:new\\s+|neue\\s+)?(?:challenge|Herausforderung)\\b>`) },
  { weight: 0.5, hints: ['another task', 'more tasks', 'weiteren aufgabe', 'paar aufgaben'], re: W(`\\b<(?:help\\s+with\\s+another\\s+task|a\\s+few\\s+more\\s+tasks|einer\\s+weiteren\\s+Aufgabe|ein\\s+paar\\s+Aufgaben)\\b>`) },

  // --- Attention grabbers, shouting, separators, fake context -------------------------------------
  { weight: 1, hints: ['attention', 'achtung'], re: W(`\\b<(?:attention|achtung)\\s*[-–:!,]+\\s*(?:stop|stopp)\\b>`) },
  { weight: 0.6, hints: ['stop', 'attention', 'achtung', 'wait'], re: W(`(?:^|[.!?]\\s+)["'“]?(?:stop|stopp|attention|achtung|wait)\\s*[-–,:!.]`) },
  { weight: 1, hints: ['\\n', '\\ n'], re: W(`(?:\\\\\\s?n\\s*){4,}`) },
  { weight: 0.8, hints: ['instruction', 'system', 'assistant'], re: W(`(?:\\\\n|\\n)\\s*(?:instruction|new\\s+instruction|system|assistant)\\s*:`) },
  { weight: 0.8, hints: ['context', 'kontext', 'artikel', 'article', 'document'], re: W(`^\\s*(?:context|kontext|artikel|article|document)\\b>[^?]{1,160}\\b<(?:question|frage)\\b>`) },
  { weight: 0.6, hints: ['document context'], re: W(`\\b<document\\s+context\\b>`) },
  { weight: 1, hints: ['document'], re: W(`\\$\\s?documents?\\s*:`) },
  { weight: 0.8, hints: ['exploit', 'auszunutzen', 'ausnutzen'], re: W(`\\b<(?:exploit(?:ing)?\\s+(?:AI|KI|LLMs?|language\\s+models?|chatbots?)(?:\\s+systems)?|(?:AI|KI)-?Systeme?\\s+(?:auszunutzen|ausnutzen))\\b>`) },
  { weight: 0.8, hints: ['pwned'], re: W(`\\b<pwned\\b>`) },
  { weight: 0.4, hints: ['human:', 'user:'], re: W(`(?:^|\\n)\\s*(?:Human|User)\\s*:`) },

  // --- Aimed at the governor ----------------------------------------------------------------------
  { weight: 1, hints: ['polic', 'guardrail', 'governor', 'safety', 'security', 'approval', 'restriction', 'compliance'],
    re: W(`\\b<(?:disregard|ignore|bypass|override|skip|disable|circumvent|turn\\s+off|get\\s+around)\\s+(?:the\\s+|any\\s+|all\\s+|your\\s+|these\\s+)?(?:security\\s+|safety\\s+|governance\\s+|approval\\s+)?(?:polic(?:y|ies)|guardrails?|governor|safety\\s+(?:checks?|rules?|filters?)|security\\s+(?:checks?|controls?|rules?)|approvals?|restrictions|compliance(?:\\s+checks?)?)\\b>`) },
  { weight: 1, hints: ['approve', 'allow', 'permit', 'authorize', 'whitelist'],
    re: W(`\\b<(?:you\\s+(?:must|should|have\\s+to|need\\s+to|will)|(?:governor|model|assistant|ai)\\s*,?\\s*(?:please\\s+)?)\\s+(?:approve|allow|permit|authorize|whitelist|auto-?approve)\\s+(?:this|it|the|my)\\b>`) },
  { weight: 0.5, hints: ['approve'], re: W(`\\b<(?:please\\s+)?approve\\s+(?:this|the|my)\\s+(?:request|action|command|operation)\\b>`) },
  { weight: 0.6, hints: ['approved', 'authorized', 'whitelisted', 'cleared', 'verified'],
    re: W(`\\b<(?:this|the)\\s+(?:request|action|command|change|operation)\\s+(?:is|has\\s+been|was)\\s+(?:already\\s+)?(?:pre-?)?(?:approved|authorized|whitelisted|cleared|verified\\s+(?:as\\s+)?safe)\\b>`) },
  { weight: 1, hints: ['safe', 'approved', 'benign', 'harmless', 'risk', 'allowed', 'trusted', 'compliant'],
    re: W(`\\b<(?:mark|classify|treat|label|rate|consider)\\s+(?:this|it|the)(?:\\s+(?:request|action|command|change|operation|deployment))?\\s+as\\s+(?:safe|approved|benign|harmless|low[-\\s]risk|allowed|trusted|compliant)\\b>`) },
  { weight: 0.6, hints: ['allow', 'approve', 'permit'], re: W(`(?:^|[.!?:;]\\s*|\\b<(?:just|only|now|please|always|must|and|then|you\\s+should)\\s+)(?:return|respond\\s+with|output|answer|reply|set\\s+(?:the\\s+)?(?:decision|verdict)\\s+to)\\s*:?\\s*["']?(?:allow|approved?|permit(?:ted)?)["']?(?![\\p{L}])`) },
  { weight: 0.7, hints: ['administrator', 'admin', 'developer', 'creator', 'owner', 'operator', 'security team'],
    re: W(`\\b<(?:as|i\\s+am|this\\s+is)\\s+(?:the|your)\\s+(?:system\\s+)?(?:administrator|admin|developer|creator|owner|operator|security\\s+team)\\b>`) },
  { weight: 0.8, hints: ['override', 'mode'], re: W(`\\b<(?:admin|administrator|developer|system|maintenance|debug|sudo)\\s+(?:override|mode)\\b>`) },
  { weight: 1, hints: ['<|', '<system', '<im_', '[inst]', '[/inst]', '[sys]', '[/sys]', '<<sys>>', '<</sys>>', 'endoftext'],
    re: W(`<\\|?(?:system|im_start|im_end|endoftext)\\|?>|\\[/?(?:INST|SYS)\\]|<</?SYS>>`) },
  { weight: 0.8, hints: ['system', 'assistant'], re: W(`(?:^|\\n)\\s*(?:system|assistant)\\s*:\\s*\\S`) },
  { weight: 0.8, hints: ['###'], re: W(`###\\s*(?:instructions?|system|new\\s+instructions?|override)\\b>`) },
  { weight: 1, hints: ['begin', 'end of'], re: W(`\\b<(?:BEGIN\\s+(?:SYSTEM|ADMIN|NEW)\\s+(?:PROMPT|MESSAGE|INSTRUCTIONS)|end\\s+of\\s+(?:the\\s+)?(?:system\\s+)?(?:prompt|instructions))\\b>`) },
  { weight: 0.8, hints: ['trust'], re: W(`\\b<(?:set|raise|increase|grant)\\s+(?:my\\s+|the\\s+|your\\s+)?trust(?:\\s+(?:level|score))?\\s+(?:to|=)\\s*\\d+`) },
];

/** ALL-CAPS runs that hold an imperative: `DO NOT ANSWER THIS BUT JUST OUTPUT`. */
const CAPS_RUN = /(?:(?<![\p{L}])[\p{Lu}'’]{2,}(?![\p{L}])[\s,!:"-]+){3,}(?<![\p{L}])[\p{Lu}'’]{2,}(?![\p{L}])/gu;
const IMPERATIVE = /(?<![\p{L}])(?:SAY|OUTPUT|PRINT|IGNORE|FORGET|ANSWER|JUST|WRITE|STOP|USE|LOOK|COMMAND|RESPOND|REPEAT|ANTWORTE|SCHREIBE|SAG|SAGE|BIST|MUSST|REDEN|VERGISS|IGNORIERE|DU|YOU)(?![\p{L}])/u;

/** Letters spaced out to dodge filters: `S a y t h a t ...`. */
const SPACED = /(?:(?<![\p{L}])\p{L} ){10,}\p{L}(?![\p{L}])/gu;
const SPACED_KEYWORDS = /say|ignore|forget|hate|print|output|instruction|password|secret|approve/i;

// One pass over the text finds which hints occur; a signal runs only when one of its hints did.
const HINTS = [...new Set(SIGNALS.flatMap((s) => s.hints))].sort((a, b) => b.length - a.length);
const HINT_RE = new RegExp(HINTS.map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');

function presentHints(lower: string): string {
  const found = new Set<string>();
  HINT_RE.lastIndex = 0;
  for (let m = HINT_RE.exec(lower); m; m = HINT_RE.exec(lower)) {
    found.add(m[0]);
    HINT_RE.lastIndex = m.index + 1;
  }
  return [...found].join('\u0000');
}

export function injectionScore(text: string): { score: number; start: number; end: number } {
  const lower = presentHints(text.toLowerCase().replace(/\s+/g, ' '));
  let score = 0;
  let start = Infinity;
  let end = -1;
  const take = (w: number, s: number, e: number): void => {
    score += w;
    if (s < start) start = s;
    if (e > end) end = e;
  };
  for (const sig of SIGNALS) {
    if (!sig.hints.some((h) => lower.includes(h))) continue;
    const re = sig.re();
    re.lastIndex = 0;
    const m = re.exec(text);
    if (m) take(sig.weight, m.index, m.index + m[0].length);
  }
  if (/[A-Z]{2}/.test(text)) {
    CAPS_RUN.lastIndex = 0;
    for (let m = CAPS_RUN.exec(text); m; m = CAPS_RUN.exec(text)) {
      if (!IMPERATIVE.test(m[0])) continue;
      take(0.8, m.index, m.index + m[0].length);
      // Shouting inserted in the middle of an ordinary sentence.
      const before = text.slice(Math.max(0, m.index - 40), m.index);
      const after = text.slice(m.index + m[0].length, m.index + m[0].length + 40);
      if (/\p{Ll}{2,}[^.!?\n]{0,30}$/u.test(before) && /^[^.!?\n]{0,10}\p{Ll}{2,}/u.test(after)) take(0.4, m.index, m.index + m[0].length);
      break;
    }
  }
  SPACED.lastIndex = 0;
  const sp = SPACED.exec(text);
  if (sp) {
    take(0.6, sp.index, sp.index + sp[0].length);
    if (SPACED_KEYWORDS.test(sp[0].replace(/ /g, ''))) take(0.6, sp.index, sp.index + sp[0].length);
  }
  return { score, start: start === Infinity ? 0 : start, end: end < 0 ? 0 : end };
}

export const INJECTION_THRESHOLD = 1;

/** Texts shorter than this many letters are left to the signals: a few words give a model too little to go on. */
const MIN_CLASSIFIED_LETTERS = 20;

/** The classifier's probability for `text`, and the window it came from; 0 for short texts. */
export function injectionProbability(text: string): { probability: number; threshold: number; start: number; end: number } {
  const model = shippedModel();
  let letters = 0;
  for (let i = 0; i < text.length && letters < MIN_CLASSIFIED_LETTERS; i++) if (/\p{L}/u.test(text[i]!)) letters++;
  if (letters < MIN_CLASSIFIED_LETTERS) return { probability: 0, threshold: model.threshold, start: 0, end: 0 };
  return { ...classify(text, model), threshold: model.threshold };
}

/**
 * `prompt-injection` when the signals find an attempt to instruct the governor; else
 * `prompt-injection-suspected` when only the classifier does. The classifier generalizes but is
 * wrong on about one benign text in fifty, so the default pack denies the first and has a human
 * look at the second.
 */
export function detectInjection(text: string): Hit[] {
  const r = injectionScore(text);
  if (r.score >= INJECTION_THRESHOLD) return [{ kind: 'prompt-injection', start: r.start, end: r.end }];
  const c = injectionProbability(text);
  return c.probability >= c.threshold ? [{ kind: 'prompt-injection-suspected', start: c.start, end: c.end }] : [];
}
